"""Fit the "covered?" model: questions over corpora that answer them (covered) and over corpora that cannot
(not covered) → features of the passage the gate would judge → logistic regression coefficients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..search.coverage import fit_logistic, probability
from ..search.retriever import Retriever, clean_question
from .evaluate import RANKING_DEPTH


@dataclass(frozen=True)
class Example:
    """One question asked of one corpus, with the passage rows that answer it (none: the corpus cannot)."""

    question: str
    answers: frozenset[str]  # source ids (BEIR) that answer it; empty for a question the corpus cannot answer


def features(retriever: Retriever, example: Example) -> np.ndarray | None:
    """(dense score, BM25 share) of the first right passage within the top ranks, or of the first passage when
    the corpus cannot answer; None when a right passage is not ranked high enough to be judged."""
    settings = retriever.settings
    query = clean_question(example.question, settings.max_question_chars)
    found, _, order = retriever.ranked(query, retriever.encoder.encode([query])[0], RANKING_DEPTH * 10, settings)
    order = order[:RANKING_DEPTH]
    if not len(order):
        return None
    if example.answers:
        right = [p for p in order if retriever.location(int(found.rows[p])).source.id in example.answers]
        if not right:
            return None
        order = right
    dense, share = found.dense(settings.sentence_vectors), found.lexical_share()
    return np.array([dense[order[0]], share[order[0]]])


def fit(covered: list[tuple[Retriever, Example]], uncovered: list[tuple[Retriever, Example]]) -> dict:
    """Coefficients, and how they separate the examples they were fitted on."""
    rows, labels = [], []
    for label, pairs in ((1, covered), (0, uncovered)):
        for retriever, example in pairs:
            found = features(retriever, example)
            if found is not None:
                rows.append(found)
                labels.append(label)
    x, y = np.array(rows), np.array(labels, dtype=float)
    coefficients = fit_logistic(x, y)
    p = probability(x[:, 0], x[:, 1], coefficients)
    return {"coefficients": coefficients, "covered": int(y.sum()), "uncovered": int(len(y) - y.sum()),
            "covered_kept_at_0.5": float((p[y == 1] >= 0.5).mean()),
            "uncovered_declined_at_0.5": float((p[y == 0] < 0.5).mean())}
