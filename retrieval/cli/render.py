"""Answers as terminal text: each passage under its citation, its best sentences marked, context around it."""

from __future__ import annotations

import shlex
import textwrap

from ..records import Passage
from ..search.coverage import label
from ..search.retriever import Answer, Retriever

WRAP_COLUMNS = 100
MARK_ON, MARK_OFF = "\033[1m", "\033[0m"  # bold in a terminal; plain output marks with »…« instead
PLAIN_MARKS = ("»", "«")


def render(answer: Answer, retriever: Retriever, context: int = 0, marks: tuple[str, str] = PLAIN_MARKS,
           show: str = "python -m retrieval show") -> str:
    """The answer as text; the footer gives the `show` command that opens its first passage in its source."""
    if not answer.hits:
        return (f"The sources do not cover this question: no passage is likely enough to answer it (best "
                f"relevance {answer.relevance:.2f}, needed {answer.settings.min_relevance:.2f}). "
                f"({answer.took_ms:.0f} ms)")
    lines = []
    for hit in answer.hits:
        lines.append(f"{hit.rank}. {hit.citation}  {label(hit.relevance)} (relevance {hit.relevance:.2f})")
        lines.extend(f"   also in {place.citation}" for place in hit.also_in)
        before, after = retriever.context(hit, context) if context else ([], [])
        lines.extend(context_line(p) for p in before)
        lines.extend(textwrap.wrap(marked(hit.text, hit.highlights, marks), WRAP_COLUMNS,
                                   initial_indent="   ", subsequent_indent="   "))
        lines.extend(context_line(p) for p in after)
        lines.append("")
    first = answer.hits[0]
    lines.append(f"{len(answer.hits)} passage(s) in {answer.took_ms:.0f} ms. Read the first in its source: "
                 f"{show} {shlex.quote(first.source.id)} --paragraph {first.passage.paragraph}")
    return "\n".join(lines)


def marked(text: str, spans: tuple[tuple[int, int], ...], marks: tuple[str, str]) -> str:
    """The text with each highlighted span wrapped in the markers; the words themselves are untouched."""
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], marks[0], text[start:end], marks[1]]
        last = end
    return "".join([*out, text[last:]])


def context_line(passage: Passage) -> str:
    return "   " + textwrap.shorten(f"¶{passage.paragraph} (context) {passage.text}", WRAP_COLUMNS, placeholder=" …")
