"""Signals of the passages ranked first in, two calibrated probabilities out: that the sources cover the question
at all (the gate), and that each passage answers it (its relevance, which also decides how many are shown)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Both models were fitted by `python -m retrieval calibrate` (the command in BENCHMARKS.md, "Answer precision") on
# the development sets: seeds/gold.toml, seeds/unanswered.toml and seeds/chatter.toml over the seeds, and SQuAD's
# questions, SciFact's claims and seeds/chatter.toml over ../shared/data/squad-dev; each corpus weighs the same,
# and so do its kinds of question that the sources do not answer.
#
# The gate: intercept, then the first passage's dense score and BM25 share, the best dense score among the first
# three passages of the question with their names taken out (search/names.py), and that question's cosine to the
# mean of the corpus's passage vectors (how near the corpus's topics what it asks lies).
COVERED = (-6.408, 6.821, 1.916, 10.322, 6.075)
# A passage answers: intercept, then its dense score, BM25 share and dense score without names, how far its fused
# score is behind the first's, and how far ahead of the next passage's it is.
ANSWERS = (-3.093, 1.982, 2.049, 3.054, -13.354, 5.071)
# With late interaction (search/late_interaction.py), both models read each passage's MaxSim too: the gate the first
# passage's (after COVERED's features), the relevance model each passage's (after ANSWERS' features). Fitted the
# same way with `late_interaction` on; without it (or with an encoder that gives no token vectors) the two above.
# The gate with late interaction also reads whether the question asks for a kind of answer (a measure, a date, a
# count...) that the first passage's sentences about it lack (search/answer_type.py; BENCHMARKS.md, "What the gate
# reads of the answer asked for").
COVERED_LATE = (-7.148, 5.091, -0.756, 8.747, 7.019, 5.045, -2.332)
ANSWERS_LATE = (-3.666, -0.783, -0.607, 2.813, -9.601, 2.626, 5.696, -12.273)
# The blend that re-orders the first `late_depth` distinct passages: the weights of their fused score and of their
# MaxSim, each as a z-score among them (a conditional logit fitted by `calibrate` on which of them answers).
LATE_BLEND = (0.95, 1.591)
# A first passage at or above this "likely answers"; on the development sets 96% (seeds) and 98% (SQuAD) of
# first passages so labelled answer the question (BENCHMARKS.md, "Answer precision").
LIKELY = 0.85
# The gate judges the question on this many passages, best first.
JUDGED = 3


@dataclass(frozen=True)
class Signals:
    """What the models read of the distinct passages ranked first for one question, best first (one value each)."""

    dense: np.ndarray  # the passage's or its best sentence's cosine to the question, whichever is higher
    share: np.ndarray  # its BM25 score over the highest any passage could reach for the question
    unnamed: np.ndarray  # its dense score for the question without the names these passages hold
    fused: np.ndarray  # its fused (ranking) score
    # the question without those names: its cosine to the mean of the corpus's passage vectors (its mean cosine to
    # them: how near the corpus's topics what it asks lies, whichever passage names whom)
    topical: float = 0.0
    # its best sentence's MaxSim (search/late_interaction.py); None when late interaction is off
    late: np.ndarray | None = None
    # 1.0 when the question asks for a kind of answer that the first passage's sentences about it lack, else 0.0
    # (search/answer_type.py); the gate reads it with late interaction
    lacks_answer: float = 0.0

    def covered(self, coefficients: tuple[float, ...] | None = None) -> float:
        """The probability that the sources answer the question; 0 when nothing was found."""
        if not len(self.dense):
            return 0.0
        chosen = coefficients or (COVERED if self.late is None else COVERED_LATE)
        return float(logistic(self.gate_features()[None, :], chosen)[0])

    def gate_features(self) -> np.ndarray:
        """The gate's features: the first passage's dense score and BM25 share, the best score without names, the
        question without names' mean cosine to the corpus, and (with late interaction) the first passage's MaxSim
        and whether it lacks the kind of answer asked for."""
        features = [self.dense[0], self.share[0], self.unnamed[:JUDGED].max(), self.topical]
        return np.array(features if self.late is None else [*features, self.late[0], self.lacks_answer])

    def answers(self, coefficients: tuple[float, ...] | None = None) -> np.ndarray:
        """Each passage's probability of answering the question."""
        return logistic(self.matrix(), coefficients or (ANSWERS if self.late is None else ANSWERS_LATE))

    def matrix(self) -> np.ndarray:
        """The relevance model's features, one row per passage (its fused score's distance behind the first's and
        ahead of the next's read in the order shown, which late interaction may have changed; with late interaction,
        its MaxSim and how far that is behind the best MaxSim among the passages read)."""
        behind = self.fused[0] - self.fused if len(self.fused) else self.fused
        lead = np.append(self.fused[:-1] - self.fused[1:], 0.0) if len(self.fused) else self.fused
        columns = [self.dense, self.share, self.unnamed, behind, lead]
        if self.late is None:
            return np.column_stack(columns)
        return np.column_stack([*columns, self.late, self.late.max() - self.late if len(self.late) else self.late])


def logistic(features: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    bias, *weights = coefficients
    return 1 / (1 + np.exp(-(bias + features @ np.array(weights))))


def label(relevance: float) -> str:
    return "likely answers" if relevance >= LIKELY else "may be related"


def fit_logistic(features: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None,
                 iterations: int = 100, ridge: float = 1e-3) -> tuple[float, ...]:
    """Coefficients (intercept first) maximising the weighted likelihood of `labels` (0/1), by Newton's method."""
    x = np.hstack([np.ones((len(features), 1)), features])
    weights = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (weights * (labels - p)) - ridge * w
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + ridge * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-9:
            break
    return tuple(float(v) for v in w)


def fit_choice(groups: list[tuple[np.ndarray, int]], weights: np.ndarray | None = None, iterations: int = 100,
               ridge: float = 1e-3) -> tuple[float, ...]:
    """Coefficients (no intercept) of a conditional logit: in each group (one row of features per candidate, and
    which candidate is the right one) the right one is chosen with probability softmax(features @ w); w maximises
    the weighted likelihood of the choices made, by Newton's method. Only the ratios between coefficients change
    a ranking."""
    dimensions = groups[0][0].shape[1]
    weights = np.ones(len(groups)) if weights is None else np.asarray(weights, dtype=float)
    w = np.zeros(dimensions)
    for _ in range(iterations):
        gradient = -ridge * w
        hessian = ridge * np.eye(dimensions)
        for (x, chosen), weight in zip(groups, weights, strict=True):
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            mean = p @ x
            gradient += weight * (x[chosen] - mean)
            hessian += weight * ((x * p[:, None]).T @ x - np.outer(mean, mean))
        step = np.linalg.solve(hessian, gradient)
        w += step
        if np.abs(step).max() < 1e-9:
            break
    return tuple(float(v) for v in w)
