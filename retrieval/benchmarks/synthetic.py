"""Synthetic embeddings shaped like a real set, for measuring indexes at sizes no corpus here has.

Each vector is a real one (or, 30% of the time, a blend of a real vector and one of its ten nearest real
neighbours), plus Gaussian noise drawn with the real set's covariance, normalised. So the synthetic set
keeps the real set's principal directions and clustering, unlike uniform noise, which no corpus resembles.
"""

from __future__ import annotations

import faiss
import numpy as np

NOISE_SCALE, MEAN_PULL, BLEND_SHARE = 0.9, 0.33, 0.3  # cosine to the centre: median about 0.78
CHUNK = 100_000


class EmbeddingShape:
    """The statistics of a real set of unit vectors that synthetic vectors are drawn from."""

    def __init__(self, real: np.ndarray) -> None:
        self.real = real / np.linalg.norm(real, axis=1, keepdims=True)
        self.mean = self.real.mean(axis=0)
        values, vectors = np.linalg.eigh(np.cov((self.real - self.mean).T.astype(np.float64)))
        self.noise = (vectors * np.sqrt(np.clip(values, 0, None))).T.astype(np.float32)  # z @ noise ~ N(0, cov)
        exact = faiss.IndexFlatIP(self.real.shape[1])
        exact.add(np.ascontiguousarray(self.real, dtype=np.float32))
        self.neighbours = exact.search(np.ascontiguousarray(self.real, dtype=np.float32), 11)[1][:, 1:]

    def sample(self, count: int, seed: int) -> np.ndarray:
        out = np.empty((count, self.real.shape[1]), dtype=np.float32)
        for chunk, start in enumerate(range(0, count, CHUNK)):
            out[start:start + CHUNK] = self.chunk(np.random.default_rng([seed, chunk]), min(CHUNK, count - start))
        return out

    def chunk(self, rng: np.random.Generator, count: int) -> np.ndarray:
        first = rng.integers(len(self.real), size=count)
        centres = self.real[first].copy()
        blend = rng.random(count) < BLEND_SHARE
        other = self.neighbours[first[blend], rng.integers(10, size=blend.sum())]
        share = rng.uniform(0.5, 0.9, size=(blend.sum(), 1))
        centres[blend] = share * centres[blend] + (1 - share) * self.real[other]
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        noise = rng.standard_normal((count, self.real.shape[1]), dtype=np.float32) @ self.noise
        vectors = centres + NOISE_SCALE * (noise + MEAN_PULL * self.mean)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
