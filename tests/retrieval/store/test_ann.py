"""The vector index follows the corpus size: exact while small, approximate (and compressed) beyond."""

import faiss
import numpy as np
import pytest

from retrieval.store.ann import EXACT_LIMIT, build_ann, index_kind, inverted_lists
from retrieval.store.index import BATCH_EXACT, searched


def unit_vectors(count: int, seed: int = 0) -> np.ndarray:
    """Clustered unit vectors, more like embeddings than uniform noise is."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, 64))
    vectors = centres[rng.integers(0, 50, count)] + 0.6 * rng.normal(size=(count, 64))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_auto_is_exact_up_to_the_limit_and_approximate_beyond():
    assert index_kind("auto", EXACT_LIMIT) == "exact"
    assert index_kind("auto", EXACT_LIMIT + 1) == "ivf-sq8"
    assert index_kind("hnsw", 10) == "hnsw"
    assert inverted_lists(1_000_000) == 4096


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ivf-sq8", "hnsw"])
def test_approximate_indexes_find_almost_all_true_neighbours(kind: str):
    corpus, queries = unit_vectors(20_000), unit_vectors(200, seed=1)
    exact = faiss.IndexFlatIP(64)
    exact.add(corpus)
    _, truth = exact.search(queries, 10)
    _, found = build_ann(corpus, kind).search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.9


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown index kind"):
        build_ann(unit_vectors(10), "magic")


def test_many_questions_on_an_exact_index_find_what_faiss_finds():
    stored = unit_vectors(3000)
    exact = build_ann(stored, "exact")
    for count in (1, BATCH_EXACT, 40):  # FAISS's own search below BATCH_EXACT questions, ours from it
        questions = unit_vectors(count, seed=count)
        _, by_faiss = exact.search(questions, 50)
        assert [rows.tolist() for rows in searched(exact, stored, questions, 50)] == by_faiss.tolist()
