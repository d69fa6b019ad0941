"""Every indexed passage's sentences as an index keeps them: their spans and vectors beside each passage's own
(for ranking by the best sentence, and for marking the answering sentence), saved and loaded with the index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SENTENCE_VECTORS, SENTENCE_OFFSETS, SENTENCE_SPANS, SENTENCE_HASHES = (
    "sentence_embeddings.npy", "sentence_offsets.npy", "sentence_spans.npy", "sentence_hashes.npy")


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
