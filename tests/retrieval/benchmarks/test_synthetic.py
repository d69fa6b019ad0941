"""Synthetic vectors for index benchmarks resemble the real embeddings they are drawn around."""

import numpy as np
import pytest

from retrieval import Retriever
from retrieval.benchmarks.synthetic import EmbeddingShape

pytestmark = pytest.mark.slow  # the real model


def test_synthetic_vectors_are_unit_length_and_close_to_the_real_set(retriever: Retriever):
    real = np.asarray(retriever.index.embeddings)
    fake = EmbeddingShape(real).sample(2_000, seed=1)
    assert np.allclose(np.linalg.norm(fake, axis=1), 1.0, atol=1e-5)
    nearest_real = (fake @ real.T).max(axis=1)
    assert np.median(nearest_real) > 0.5  # each lies around some real passage, not in empty space
    pairwise_real = (real @ real.T)[np.triu_indices(len(real), 1)].mean()
    pairwise_fake = (fake[:500] @ fake[:500].T)[np.triu_indices(500, 1)].mean()
    assert abs(pairwise_fake - pairwise_real) < 0.15


def test_the_same_seed_gives_the_same_vectors(retriever: Retriever):
    shape = EmbeddingShape(np.asarray(retriever.index.embeddings))
    assert np.array_equal(shape.sample(100, seed=3), shape.sample(100, seed=3))
    assert not np.array_equal(shape.sample(100, seed=3), shape.sample(100, seed=4))
