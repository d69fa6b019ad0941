"""Find the sentence(s) of a passage that best answer a question, as character offsets into the verbatim text."""

from __future__ import annotations

import re

import numpy as np

# A sentence ends at . ! or ? (and any closing quotes or brackets) followed by white space.
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+")
# Sentences scoring within this much of the best one are marked too.
HIGHLIGHT_MARGIN = 0.05
# A sentence's score is its cosine to the question plus this much times the share of the question's words
# (stemmed, stopwords left out) that it contains, so the sentence naming what was asked about wins ties.
WORD_BONUS = 0.2


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trailing white space excluded."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        end = match.end()
        spans.append((start, len(text[:end].rstrip())))
        start = end
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def best_spans(spans: list[tuple[int, int]], scores: np.ndarray) -> list[tuple[int, int]]:
    """The best-scoring sentence and any close behind it; none for a one-sentence passage."""
    if len(spans) < 2:
        return []
    best = float(scores.max())
    return [span for span, score in zip(spans, scores, strict=True) if score >= best - HIGHLIGHT_MARGIN]
