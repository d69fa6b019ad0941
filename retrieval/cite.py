"""Citations a reader can check by hand: who wrote it, what it is called, where and when, which paragraph."""

from __future__ import annotations

from .records import Source


def citation(source: Source, paragraph: int) -> str:
    """Like `[Robert Park, "Ji Seong-ho: Hero fostering unity…", Korea Herald, ¶8]`; unknown parts are left out."""
    parts = [source.author, f'"{source.title}"' if source.title else None, source.publication, source.date]
    return "[" + ", ".join([p for p in parts if p] + [f"¶{paragraph}"]) + "]"
