"""Late interaction (ColBERT's MaxSim) over the sentence model's own token vectors: a question's token vectors and
each candidate passage's in, one score per passage out: for each question token its best cosine to any of the
passage's tokens, averaged over the question's tokens."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

# Passages whose token vectors are kept between questions (a few MB: 200 tokens x 384 float32 each is 0.3 MB);
# the same passages come back for the same subjects, and a passage is re-read only when its text changed.
REMEMBERED = 256


@runtime_checkable
class TokenEncoder(Protocol):
    """An encoder that also gives each text's token vectors: one unit-length row per word piece, [CLS], [SEP]
    and padding left out."""

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]: ...


def maxsim(question: np.ndarray, passages: Sequence[np.ndarray]) -> np.ndarray:
    """One score per passage: the mean over the question's token vectors of the best cosine to the passage's.
    0 for an empty question or passage (nothing to match)."""
    scores = np.zeros(len(passages), dtype=np.float32)
    if not len(question):
        return scores
    for i, tokens in enumerate(passages):
        if len(tokens):
            scores[i] = float((question @ tokens.T).max(axis=1).mean())
    return scores


class LateInteraction:
    """Scores candidate passages for a question by MaxSim, encoding each passage's tokens when first asked and
    remembering the last REMEMBERED passages' (by text)."""

    def __init__(self, encoder: TokenEncoder, remembered: int = REMEMBERED) -> None:
        self.encoder = encoder
        self.remembered = remembered
        self.known: OrderedDict[str, np.ndarray] = OrderedDict()

    def questions(self, questions: Sequence[str]) -> list[np.ndarray]:
        """Each question's token vectors, in order."""
        return self.encoder.token_vectors(list(questions)) if questions else []

    def scores(self, question: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """MaxSim of the question's token vectors against each text's, in the order of `texts`."""
        return maxsim(question, self.passages(texts))

    def passages(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's token vectors; the texts not remembered are encoded in one call."""
        missing = list(dict.fromkeys(text for text in texts if text not in self.known))
        if missing:
            for text, tokens in zip(missing, self.encoder.token_vectors(missing), strict=True):
                self.known[text] = tokens
        for text in texts:
            self.known.move_to_end(text)
        found = [self.known[text] for text in texts]
        while len(self.known) > max(self.remembered, len(texts)):
            self.known.popitem(last=False)
        return found


def blend(fused: np.ndarray, late: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct passages' fused scores, best first, and the MaxSim of the first len(late) of them, in; their new
    order, each one's ranking score (fused + weight x MaxSim) and each one's MaxSim out, all in the new order.
    Only those first passages move: one further down is taken to match no better than the worst of them, which
    keeps it behind them (its fused score is no higher and MaxSim is never negative with a weight that is not)."""
    head = len(late)
    if not head:
        return np.arange(len(fused)), fused.copy(), np.zeros_like(fused)
    matched = np.concatenate([late, np.full(len(fused) - head, late.min(), dtype=late.dtype)])
    scores = fused + weight * matched
    order = np.concatenate([np.argsort(-scores[:head], kind="stable"), np.arange(head, len(fused))])
    return order, scores[order], matched[order]
