"""Cut a paragraph too long for one passage into parts, at sentence ends, each a verbatim slice of it."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

# all-MiniLM-L6-v2 reads at most 256 word pieces: about 1,150 characters of SciFact (4.5 characters a piece)
# or 1,300 of the seeds (5.1), so the tail of a longer passage never reaches the dense ranking anyway. 2,000
# keeps ordinary long paragraphs whole (every seeds paragraph, the longest is 633; 95% of SciFact abstracts)
# while a text with no blank line for megabytes becomes bounded passages instead of one the tokenizer and
# the highlighter must take in whole.
MAX_PASSAGE_CHARS = 2000
SPACE = re.compile(r"\s+")
# A sentence ends at . ! or ? (and any closing quotes or brackets) followed by white space. Coarser than
# sentences.py's pysbd, and linear however long the text: cutting needs only plausible ends, fast.
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+")


def split_paragraph(text: str, limit: int = MAX_PASSAGE_CHARS) -> list[str]:
    """The paragraph itself when it fits in `limit` characters, else parts of at most `limit` characters cut
    between sentences (between words inside a sentence longer than that), about equal in length."""
    if len(text) <= limit:
        return [text]
    # aim at equal parts, so 2,100 characters become two of about 1,050 rather than 2,000 and a stub of 100
    target = len(text) / math.ceil(len(text) / limit)
    parts = []
    start = end = 0
    for piece_start, piece_end in pieces(text, limit):
        if end > start and (piece_end - start > limit or end - start >= target):
            parts.append(text[start:end])
            start = piece_start
        end = piece_end
    parts.append(text[start:end])
    return parts


def pieces(text: str, limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of the text, white space between them left out; a sentence longer than
    `limit` comes as several pieces ending between words (or anywhere, for one word that long)."""
    start = 0
    for match in SENTENCE_END.finditer(text):
        end = match.start() + len(match.group().rstrip())
        yield from words(text, start, end, limit)
        start = match.end()
    if start < len(text.rstrip()):
        yield from words(text, start, len(text.rstrip()), limit)


def words(text: str, start: int, end: int, limit: int) -> Iterator[tuple[int, int]]:
    """text[start:end] in pieces of at most `limit` characters, cut at the last white space that fits."""
    while end - start > limit:
        gap = max(SPACE.finditer(text, start + 1, start + limit + 1), key=lambda m: m.start(), default=None)
        cut, resume = (gap.start(), gap.end()) if gap else (start + limit, start + limit)
        yield start, cut
        start = resume
    yield start, end
