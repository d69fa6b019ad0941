"""Choose and build the FAISS index for a corpus: exact search while it is small, an inverted file with 8-bit
scalar quantisation (or HNSW, on request) beyond that."""

from __future__ import annotations

import math

import faiss
import numpy as np

# Up to this many passages exact search answers within about 20 ms on 2 cores (it costs about 0.3 ms per
# thousand passages, measured in BENCHMARKS.md) and needs no training; beyond it an approximate index does.
EXACT_LIMIT = 50_000
TRAIN_SAMPLE = 100_000  # vectors used to train the inverted file's centroids
NPROBE = 32  # inverted lists searched per query
HNSW_NEIGHBOURS, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 100, 256
KINDS = ("auto", "exact", "ivf-sq8", "hnsw")


def index_kind(kind: str, count: int) -> str:
    return ("exact" if count <= EXACT_LIMIT else "ivf-sq8") if kind == "auto" else kind


def build_ann(vectors: np.ndarray, kind: str = "auto", seed: int = 0) -> faiss.Index:
    """A FAISS index over unit vectors, searched by inner product (cosine)."""
    count, dimension = vectors.shape
    chosen = index_kind(kind, count)
    if chosen == "exact":
        index = faiss.IndexFlatIP(dimension)
    elif chosen == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    elif chosen == "ivf-sq8":
        lists = inverted_lists(count)
        index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dimension), dimension, lists,
                                              faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(seed).choice(count, min(count, max(TRAIN_SAMPLE, 40 * lists)),
                                                    replace=False)
        index.train(vectors[np.sort(sample)])
    else:
        raise ValueError(f"unknown index kind {kind!r}; use one of {', '.join(KINDS)}")
    index.add(vectors)
    tune(index)
    return index


def inverted_lists(count: int) -> int:
    """About 4 sqrt(n) lists, a power of two, at least 1."""
    return max(1, 2 ** round(math.log2(4 * math.sqrt(count))))


def tune(index: faiss.Index) -> None:
    """Search-time settings, which FAISS does not store in the index file."""
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = NPROBE
    elif isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH
