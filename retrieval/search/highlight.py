"""Find the sentence(s) of a passage that best answer a question, as character offsets into the verbatim text."""

from __future__ import annotations

import numpy as np

from ..records import Hit

# Sentences scoring within this much of the best one are marked too.
HIGHLIGHT_MARGIN = 0.05
# A sentence's score is its cosine to the question plus this much times the share of the question's telling
# words (stemmed) that it contains. Telling: held by some sentence of the passage but not by its source's title
# or section, which name what every sentence is about, whether it repeats the name or says "it". Counting the
# topic's words marked "The Ariadne telescope saw first light…" for "Who funded the Ariadne telescope?" (cosines
# 0.57 against 0.44 for "It was funded by a grant…"); without them the best sentence holds the gold snippet for
# 79.6% of the seeds' gold questions instead of 74.1% (BENCHMARKS.md, "Highlighting").
WORD_BONUS = 0.2


def sentence_scores(cosines: np.ndarray, said: list[set[str]], asked: set[str], topic: set[str]) -> np.ndarray:
    """Each sentence's score: its cosine to the question, plus WORD_BONUS times the share of the question's
    telling words (`asked`, those `said` by some sentence and not in the `topic`) that the sentence says."""
    telling = (asked & set().union(*said)) - topic
    shares = [len(telling & words) / len(telling) if telling else 0.0 for words in said]
    return cosines + WORD_BONUS * np.array(shares)


def best_spans(spans: list[tuple[int, int]], scores: np.ndarray) -> list[tuple[int, int]]:
    """The best-scoring sentence and any close behind it; none for a one-sentence passage."""
    if len(spans) < 2:
        return []
    best = float(scores.max())
    return [span for span, score in zip(spans, scores, strict=True) if score >= best - HIGHLIGHT_MARGIN]


def topic_of(hit: Hit) -> str:
    """What every sentence of the hit is about: its source's title and its section."""
    return " ".join(part for part in (hit.source.title, hit.passage.section) if part)
