"""Each indexed passage's token vectors (the model's last layer, one per word piece), kept by a build for late
interaction (search/late_interaction.py): computed in the same model run as the passage's vector, stored in int8
with one scale per vector, and read back for the few passages a question re-reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOKEN_VECTORS, TOKEN_SCALES, TOKEN_OFFSETS = "token_vectors.npy", "token_scales.npy", "token_offsets.npy"
INT8_LARGEST = 127


@dataclass(frozen=True)
class TokenTable:
    """Every indexed passage's token vectors: row r's are offsets[r]:offsets[r + 1], each stored as int8 times its
    scale (a unit vector's largest component over 127), so a cosine moves by under 0.01."""

    offsets: np.ndarray  # int64, one more than there are passage rows
    vectors: np.ndarray  # int8 (word pieces, dimension), memory-mapped when loaded
    scales: np.ndarray  # float32 (word pieces,)

    @classmethod
    def of(cls, tokens: Sequence[np.ndarray]) -> TokenTable:
        """The table of these passages' token vectors (float, one (pieces, dimension) array per row), quantised."""
        counts = np.array([len(each) for each in tokens], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        every = np.concatenate(tokens).astype(np.float32) if tokens else np.zeros((0, 0), dtype=np.float32)
        largest = np.abs(every).max(axis=1) if len(every) else np.zeros(0, dtype=np.float32)
        scales = np.where(largest > 0, largest / INT8_LARGEST, 1.0).astype(np.float32)
        vectors = np.rint(every / scales[:, None]).astype(np.int8)
        return cls(offsets, vectors, scales)

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

    @property
    def count(self) -> int:
        return len(self.offsets) - 1

    def save(self, folder: Path) -> None:
        np.save(folder / TOKEN_OFFSETS, self.offsets)
        np.save(folder / TOKEN_VECTORS, self.vectors)
        np.save(folder / TOKEN_SCALES, self.scales)

    @classmethod
    def load(cls, folder: Path) -> TokenTable | None:
        """The table a build kept; None when it kept none (too large, or built before tables were kept)."""
        if not (folder / TOKEN_OFFSETS).is_file():
            return None
        return cls(np.load(folder / TOKEN_OFFSETS), np.load(folder / TOKEN_VECTORS, mmap_mode="r"),
                   np.load(folder / TOKEN_SCALES))
