"""Find the sentence(s) of a passage that best answer a question, as character offsets into the verbatim text."""

from __future__ import annotations

import numpy as np

# Sentences scoring within this much of the best one are marked too.
HIGHLIGHT_MARGIN = 0.05
# A sentence's score is its cosine to the question plus this much times the share of the question's words
# (stemmed, stopwords left out) that it contains, so the sentence naming what was asked about wins ties.
WORD_BONUS = 0.2


def best_spans(spans: list[tuple[int, int]], scores: np.ndarray) -> list[tuple[int, int]]:
    """The best-scoring sentence and any close behind it; none for a one-sentence passage."""
    if len(spans) < 2:
        return []
    best = float(scores.max())
    return [span for span, score in zip(spans, scores, strict=True) if score >= best - HIGHLIGHT_MARGIN]
