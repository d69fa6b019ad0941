"""A stand-in for the model in the fast tier: deterministic hashed word counts, same protocol as the real encoder."""

import re
import zlib
from pathlib import Path

import numpy as np

from retrieval.encode.embed import ModelIdentity

TOKEN_DIMENSIONS = 4096  # a word's token vector: as many dimensions as a small vocabulary, unlike its 16 for texts


class WordHashEncoder:
    """Each word counts towards one of 16 dimensions: texts sharing words are close, as with a real model."""

    identity = ModelIdentity("test/word-hash", Path("word-hash"), "0" * 64)
    dimension = 16

    def encode(self, texts, on_batch=None) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, dimension_of(word, self.dimension)] += 1
        if on_batch:
            on_batch(len(texts))
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)

    def token_vectors(self, texts) -> list[np.ndarray]:
        """One token per word: the unit vector along its own dimension of TOKEN_DIMENSIONS (so few words collide)."""
        vectors = []
        for text in texts:
            words = text.lower().split()
            tokens = np.zeros((len(words), TOKEN_DIMENSIONS), dtype=np.float32)
            tokens[np.arange(len(words)), [dimension_of(word, TOKEN_DIMENSIONS) for word in words]] = 1.0
            vectors.append(tokens)
        return vectors

    def encode_with_tokens(self, texts, on_batch=None, tokens=True):
        return self.encode(texts, on_batch), self.token_vectors(texts) if tokens else []

    def token_words(self, text) -> list[str]:
        return text.lower().split()

    def token_offsets(self, texts) -> list[np.ndarray]:
        return [np.array([match.span() for match in re.finditer(r"\S+", text)], dtype=np.int64).reshape(-1, 2)
                for text in texts]


def dimension_of(word: str, dimensions: int) -> int:
    return zlib.crc32(word.strip(".,?!;:").encode()) % dimensions
