"""Passages → their sentences: character spans from pysbd, and the per-sentence vectors an index keeps beside
each passage's own (for ranking by the best sentence, and for marking the answering sentence)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pysbd

MIN_SENTENCE_WORDS = 3
WORD = re.compile(r"\w+")
SENTENCE_VECTORS, SENTENCE_OFFSETS, SENTENCE_SPANS, SENTENCE_HASHES = (
    "sentence_embeddings.npy", "sentence_offsets.npy", "sentence_spans.npy", "sentence_hashes.npy")


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


@dataclass(frozen=True)
class SentenceTable:
    """Every sentence of every indexed passage: row r's sentences are offsets[r]:offsets[r + 1]; their spans
    index the passage's text and their vectors are unit length, like the passages'."""

    offsets: np.ndarray  # int64, one more than there are passage rows
    spans: np.ndarray  # int32 (sentences, 2)
    vectors: np.ndarray  # float32 (sentences, dimension), memory-mapped when loaded

    def of(self, row: int) -> slice:
        return slice(int(self.offsets[row]), int(self.offsets[row + 1]))

    def best(self, vector: np.ndarray) -> np.ndarray:
        """The highest cosine to `vector` of any sentence of each row."""
        cosines = self.vectors @ vector
        if not len(cosines):
            return np.zeros(len(self.offsets) - 1, dtype=np.float32)
        return np.maximum.reduceat(cosines, self.offsets[:-1])

    def rows(self) -> np.ndarray:
        """The passage row of each sentence."""
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))

    def save(self, folder: Path) -> None:
        np.save(folder / SENTENCE_OFFSETS, self.offsets)
        np.save(folder / SENTENCE_SPANS, self.spans)
        np.save(folder / SENTENCE_VECTORS, self.vectors)

    @classmethod
    def load(cls, folder: Path) -> SentenceTable:
        return cls(np.load(folder / SENTENCE_OFFSETS), np.load(folder / SENTENCE_SPANS),
                   np.load(folder / SENTENCE_VECTORS, mmap_mode="r"))


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
