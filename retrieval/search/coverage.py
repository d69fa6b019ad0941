"""Does a passage answer the question? A calibrated probability from two signals that mean the same on any
corpus: the passage's dense score and the share of the question's BM25 ceiling that it reaches."""

from __future__ import annotations

import numpy as np

# Logistic regression (intercept, dense score, BM25 share). The two slopes were fitted by `python -m retrieval
# calibrate` (BENCHMARKS.md, "Answer precision"): SciFact train claims against the abstracts that answer them
# (covered), they and the development questions against the other corpora (not covered); it gave -13.685,
# 23.777, 26.741. SciFact's claims restate their abstracts, so its covered examples sit far above questions
# that paraphrase a passage, and the fitted intercept silenced a fifth of the seeds' on-topic questions. The
# intercept was moved to -8.4 on the development sets: there p = 0.5 answers 89% of the seeds' round-one
# on-topic questions and 99.6% of SQuAD's, and silences every off-topic seeds question and 99.2% of the
# SciFact claims asked of the SQuAD articles (-8.2 answers 92% of the seeds' but silences only 98.9%).
COEFFICIENTS = (-8.4, 23.777, 26.741)
# A passage at or above this probability "likely answers"; below it, one that passed the gate "may be related".
LIKELY = 0.8


def probability(dense: np.ndarray, lexical_share: np.ndarray,
                coefficients: tuple[float, float, float] = COEFFICIENTS) -> np.ndarray:
    bias, w_dense, w_lexical = coefficients
    return 1 / (1 + np.exp(-(bias + w_dense * dense + w_lexical * lexical_share)))


def label(relevance: float) -> str:
    return "likely answers" if relevance >= LIKELY else "may be related"


def fit_logistic(features: np.ndarray, labels: np.ndarray, iterations: int = 50,
                 ridge: float = 1e-3) -> tuple[float, ...]:
    """Coefficients (intercept first) maximising the likelihood of `labels` (0/1), by Newton's method."""
    x = np.hstack([np.ones((len(features), 1)), features])
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (labels - p) - ridge * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return tuple(float(v) for v in w)
