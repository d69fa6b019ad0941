"""Fuse dense and lexical rankings: min-max normalise each over the candidate pool, then take a weighted sum."""

from __future__ import annotations

import numpy as np

# Weight of the dense score in hybrid mode, chosen on BEIR SciFact's train split (809 queries) with
# `python -m retrieval eval --beir ../shared/data/scifact --split train --modes hybrid --dense-weight W`;
# the sweep and reciprocal rank fusion's figures are in BENCHMARKS.md.
DENSE_WEIGHT = 0.6
RRF_K = 60


def normalised(scores: np.ndarray) -> np.ndarray:
    low, high = float(scores.min()), float(scores.max())
    return (scores - low) / (high - low) if high > low else np.zeros_like(scores)


def weighted(dense: np.ndarray, lexical: np.ndarray, dense_weight: float = DENSE_WEIGHT) -> np.ndarray:
    """Scores of the same candidates under both signals -> one score in [0, 1]. BM25's floor is 0, so it is
    scaled by its maximum alone, and a candidate with no query word keeps a lexical score of 0."""
    top = float(lexical.max())
    lexical_part = lexical / top if top > 0 else np.zeros_like(lexical)
    return dense_weight * normalised(dense) + (1 - dense_weight) * lexical_part


def reciprocal_rank(dense: np.ndarray, lexical: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion of the same candidates (Cormack et al. 2009)."""
    def ranks(scores: np.ndarray) -> np.ndarray:
        order = np.empty(len(scores))
        order[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        return order
    return 1 / (k + ranks(dense)) + 1 / (k + ranks(lexical))
