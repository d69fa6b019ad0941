"""Each indexed passage's token vectors (the model's last layer, one per word piece), kept by a build for late
interaction (search/late_interaction.py): computed in the same model run as the passage's vector, stored in int8
with one scale per vector, and read back for the few passages a question re-reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOKEN_VECTORS, TOKEN_SCALES, TOKEN_OFFSETS = "token_vectors.npy", "token_scales.npy", "token_offsets.npy"
TOKEN_SENTENCES = "token_sentences.npy"  # each word piece's sentence in its passage (-1: the title before it)
TOKEN_FILES = (TOKEN_OFFSETS, TOKEN_VECTORS, TOKEN_SCALES, TOKEN_SENTENCES)  # a build's, those it kept
INT8_LARGEST = 127


@dataclass(frozen=True)
class TokenTable:
    """Every indexed passage's token vectors: row r's are offsets[r]:offsets[r + 1], each stored as int8 times its
    scale (a unit vector's largest component over 127), so a cosine moves by under 0.01."""

    offsets: np.ndarray  # int64, one more than there are passage rows
    vectors: np.ndarray  # int8 (word pieces, dimension), memory-mapped when loaded
    scales: np.ndarray  # float32 (word pieces,)
    sentences: np.ndarray | None = None  # int16 (word pieces,): each one's sentence (sentence_of_tokens)

    @classmethod
    def of(cls, tokens: Sequence[np.ndarray], sentences: Sequence[np.ndarray] | None = None) -> TokenTable:
        """The table of these passages' token vectors (float, one (pieces, dimension) array per row), quantised,
        with each word piece's sentence (one array per row) when given."""
        counts = np.array([len(each) for each in tokens], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        every = np.concatenate(tokens).astype(np.float32) if tokens else np.zeros((0, 0), dtype=np.float32)
        largest = np.abs(every).max(axis=1) if len(every) else np.zeros(0, dtype=np.float32)
        scales = np.where(largest > 0, largest / INT8_LARGEST, 1.0).astype(np.float32)
        vectors = np.rint(every / scales[:, None]).astype(np.int8)
        if sentences is None:
            return cls(offsets, vectors, scales)
        if [len(each) for each in sentences] != counts.tolist():
            raise ValueError("one sentence number is needed for each word piece")
        return cls(offsets, vectors, scales, np.concatenate([*sentences, np.zeros(0)]).astype(np.int16))

    @staticmethod
    def size(tokens: np.ndarray) -> int:
        """The bytes one passage's token vectors take stored."""
        return tokens.shape[0] * (tokens.shape[1] + np.dtype(np.float32).itemsize)

    def rows(self, rows: Sequence[int]) -> list[np.ndarray]:
        """Each row's token vectors, back to float32 and unit length."""
        found = []
        for row in rows:
            at = slice(int(self.offsets[row]), int(self.offsets[row + 1]))
            tokens = np.asarray(self.vectors[at], dtype=np.float32) * self.scales[at, None]
            found.append(tokens / np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), np.finfo(np.float32).tiny))
        return found

    def sentences_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        """Each row's word pieces' sentences; None for every row of a table kept without them."""
        if self.sentences is None:
            return [None] * len(rows)
        return [np.asarray(self.sentences[int(self.offsets[row]):int(self.offsets[row + 1])]) for row in rows]

    @property
    def count(self) -> int:
        return len(self.offsets) - 1

    def save(self, folder: Path) -> None:
        np.save(folder / TOKEN_OFFSETS, self.offsets)
        np.save(folder / TOKEN_VECTORS, self.vectors)
        np.save(folder / TOKEN_SCALES, self.scales)
        if self.sentences is not None:
            np.save(folder / TOKEN_SENTENCES, self.sentences)

    @classmethod
    def load(cls, folder: Path) -> TokenTable | None:
        """The table a build kept; None when it kept none (too large, or built before tables were kept)."""
        if not (folder / TOKEN_OFFSETS).is_file():
            return None
        sentences = np.load(folder / TOKEN_SENTENCES) if (folder / TOKEN_SENTENCES).is_file() else None
        return cls(np.load(folder / TOKEN_OFFSETS), np.load(folder / TOKEN_VECTORS, mmap_mode="r"),
                   np.load(folder / TOKEN_SCALES), sentences)


def sentence_of_tokens(offsets: np.ndarray, starts: np.ndarray, shift: int = 0) -> np.ndarray:
    """Each token's sentence in its passage: the number of the last sentence starting at or before the token's first
    character (`offsets`: each token's (start, end) in the text read; `starts`: each sentence's first character in
    the passage's own text, which the text read holds from `shift` on, after a title), -1 for a token of the title.
    A passage with no sentences is one sentence."""
    begins = offsets[:, 0] - shift if len(offsets) else np.zeros(0, dtype=np.int64)
    if not len(starts):
        return np.where(begins < 0, -1, 0)
    return np.where(begins < 0, -1, np.maximum(np.searchsorted(starts, begins, side="right") - 1, 0))
