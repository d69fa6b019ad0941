"""Passages → their sentences: character spans from pysbd (the store keeps each sentence's vector beside its
passage's: store/sentences.py)."""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pysbd

MIN_SENTENCE_WORDS = 3
WORD = re.compile(r"\w+")


@cache
def segmenter() -> pysbd.Segmenter:
    # clean=False keeps the text verbatim, so the spans index the passage as stored
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, white space around it excluded; abbreviations such as "Dr." and "U.S." do
    not end a sentence."""
    spans = []
    # pysbd 0.3.4 stops splitting a whole paragraph after a spaced double hyphen ("exceptional -- as"); two em
    # dashes read the same to it and keep every offset, since the text's length does not change.
    for piece in segmenter().segment(text.replace("--", "\u2014\u2014")):
        start, end = piece.start, piece.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return merge_fragments(text, spans) or ([(0, len(text.strip()))] if text.strip() else [])


def merge_fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a piece of fewer than MIN_SENTENCE_WORDS words (a closing quote left alone, "-- Ed.") to the sentence
    before it, or after it when it comes first: alone, its vector matches unrelated questions (a lone "”" was
    the seeds' closest sentence to a question of four emoji, at cosine 0.40)."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        short = len(WORD.findall(text[start:end])) < MIN_SENTENCE_WORDS
        if merged and (short or len(WORD.findall(text[slice(*merged[-1])])) < MIN_SENTENCE_WORDS):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def split_all(texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(offsets, spans, sentence texts) for a list of passage texts."""
    spans, counts = [], []
    for text in texts:
        found = sentence_spans(text)
        spans += found
        counts.append(len(found))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    span_array = np.array(spans, dtype=np.int32).reshape(-1, 2)
    pieces = [text[a:b] for text, count, start in zip(texts, counts, offsets, strict=False)
              for a, b in span_array[start:start + count].tolist()]
    return offsets, span_array, pieces
