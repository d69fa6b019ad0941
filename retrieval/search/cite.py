"""Citations a reader can check by hand: who wrote it, what it is called, where and when, which paragraph."""

from __future__ import annotations

from ..records import Passage, Role, Source


def citation(source: Source, passage: Passage) -> str:
    """Like `[Robert Park, "Ji Seong-ho: Hero fostering unity…", Korea Herald, ¶8]`; unknown parts are left out,
    and a photo caption says so (`¶3, photo caption`). The page and the section go before the paragraph where
    the document has them: `[Ana Lind, "Rivers", p. 4, ¶2]`, `[Ana Lind, "Rivers", § Early life, ¶5]`."""
    parts = [source.author, f'"{source.title}"' if source.title else None, source.publication, source.date,
             f"p. {passage.page}" if passage.page is not None else None,
             f"§ {passage.section}" if passage.section else None]
    place = f"¶{passage.paragraph}" + (", photo caption" if passage.role is Role.CAPTION else "")
    return "[" + ", ".join([p for p in parts if p] + [place]) + "]"
