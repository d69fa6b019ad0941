"""Late interaction (ColBERT's MaxSim) over the sentence model's own token vectors: a question's token vectors and
each candidate passage's in, one score per passage out: for each question token its best cosine to any of the
passage's tokens, averaged over the question's tokens."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

# Passages whose token vectors are kept between questions: at most 256 x 254 word pieces x 384 float32, 100 MB; all
# the seeds' 44 passages take 4 MB, the SQuAD articles' 126 take 22 MB (BENCHMARKS.md, "Late interaction", counts
# their word pieces). The same passages come back for the same subjects; one is read again only when its text changed.
REMEMBERED = 256


@runtime_checkable
class TokenEncoder(Protocol):
    """An encoder that also gives each text's token vectors (one unit-length row per word piece, [CLS], [SEP] and
    padding left out) and, for each of those rows, the word it is a piece of."""

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]: ...

    def encode_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors (as `encode` gives them) and their token vectors, from one run of the model."""

    def token_words(self, text: str) -> list[str]: ...


def maxsim(question: np.ndarray, passages: Sequence[np.ndarray], weights: np.ndarray | None = None) -> np.ndarray:
    """One score per passage: over the question's token vectors, the weighted mean (plain mean without `weights`,
    or when they are all 0) of each one's best cosine to any of the passage's. 0 for an empty question or passage
    (nothing to match)."""
    scores = np.zeros(len(passages), dtype=np.float32)
    if not len(question):
        return scores
    if weights is None or not np.any(weights > 0):
        weights = np.ones(len(question))
    for i, tokens in enumerate(passages):
        if len(tokens):
            scores[i] = float((question @ tokens.T).max(axis=1) @ weights / weights.sum())
    return scores


class LateInteraction:
    """Scores candidate passages for a question by MaxSim, encoding each passage's tokens when first asked and
    remembering the last REMEMBERED passages' (by text)."""

    def __init__(self, encoder: TokenEncoder, remembered: int = REMEMBERED) -> None:
        self.encoder = encoder
        self.remembered = remembered
        self.known: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, questions: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each question's vector and its token vectors, from one model call."""
        return self.encoder.encode_with_tokens(list(questions))

    def words(self, question: str) -> list[str]:
        """The word each of the question's token vectors is a piece of."""
        return self.encoder.token_words(question)

    def scores(self, question: np.ndarray, texts: Sequence[str], weights: np.ndarray | None = None) -> np.ndarray:
        """MaxSim of the question's token vectors (weighted by `weights`) against each text's, in their order."""
        return maxsim(question, self.passages(texts), weights)

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


def blend(fused: np.ndarray, late: np.ndarray, weights: tuple[float, float]) -> np.ndarray:
    """The first passages' fused scores and MaxSim in, their new order out: by the blend `weights` of the two, each
    as a z-score among these passages (so that the blend reads how far apart the passages are, not how high the
    question's scores run). One passage, or passages all alike, keep their order."""
    score = weights[0] * standardised(fused) + weights[1] * standardised(late)
    return np.argsort(-score, kind="stable")


def standardised(values: np.ndarray) -> np.ndarray:
    """(value - mean) / standard deviation; all 0 when the values are all alike."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
