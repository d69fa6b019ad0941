"""Late interaction (ColBERT's MaxSim) over the sentence model's own token vectors: a question's token vectors and
each candidate passage's in, one score per passage out: for each question token its best cosine to any of the
passage's tokens, averaged over the question's tokens; read sentence by sentence, the passage's best sentence's."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from ..encode.embed import TokenEncoder

# Passages whose token vectors are kept between questions: at most 256 x 254 word pieces x 384 float32, 100 MB; all
# the seeds' 44 passages take 4 MB, the SQuAD articles' 126 take 22 MB (BENCHMARKS.md, "Late interaction", counts
# their word pieces). The same passages come back for the same subjects; one is read again only when its text changed.
REMEMBERED = 256


def maxsim(question: np.ndarray, passages: Sequence[np.ndarray], weights: np.ndarray | None = None,
           sentences: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
    """One score per passage: over the question's token vectors, the weighted mean (plain mean without `weights`,
    or when they are all 0) of each one's best cosine to any of the passage's. With `sentences` (one per passage:
    each token's sentence, as store/tokens.py's `sentence_of_tokens` gives it, or None to read the passage whole),
    the highest such score of any one of its sentences, each read with the tokens before the first (a title): an
    answer is mostly in one sentence, and words matched across several say less. 0 for an empty question or
    passage (nothing to match)."""
    scores = np.zeros(len(passages), dtype=np.float32)
    if not len(question):
        return scores
    if weights is None or not np.any(weights > 0):
        weights = np.ones(len(question))
    weights = weights / weights.sum()
    for i, tokens in enumerate(passages):
        if not len(tokens):
            continue
        cosines = question @ tokens.T
        groups = sentences[i] if sentences is not None else None
        if groups is None or len(groups) != len(tokens) or groups[-1] < 1:  # one sentence (or none): read whole
            scores[i] = float(cosines.max(axis=1) @ weights)
            continue
        # a passage's tokens come in order, the title's (-1) first: each group is a run of columns
        starts = np.flatnonzero(np.diff(groups, prepend=groups[0] - 1))
        best = np.maximum.reduceat(cosines, starts, axis=1)  # each question token's best in each group
        if groups[0] < 0:  # the title's best counts in every sentence
            best = np.maximum(best[:, 1:], best[:, :1])
        scores[i] = float((weights @ best).max())
    return scores


class LateInteraction:
    """Scores candidate passages for a question by MaxSim over their token vectors: those the index kept, else
    encoded when first asked, the last REMEMBERED passages' remembered (by text)."""

    def __init__(self, encoder: TokenEncoder, remembered: int = REMEMBERED) -> None:
        self.encoder = encoder
        self.remembered = remembered
        self.known: OrderedDict[str, np.ndarray] = OrderedDict()

    def words(self, question: str) -> list[str]:
        """The word each of the question's token vectors is a piece of."""
        return self.encoder.token_words(question)

    def offsets(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each text's tokens' (start, end) characters, one row per token vector (one tokenizer call)."""
        return self.encoder.token_offsets(list(texts))

    def passages(self, texts: Sequence[str], stored: Sequence[np.ndarray | None] | None = None) -> list[np.ndarray]:
        """Each text's token vectors: as `stored` where given, else as remembered; the rest are encoded in one
        call (and remembered)."""
        stored = list(stored) if stored is not None else [None] * len(texts)
        missing = list(dict.fromkeys(text for text, kept in zip(texts, stored, strict=True)
                                     if kept is None and text not in self.known))
        if missing:
            for text, tokens in zip(missing, self.encoder.token_vectors(missing), strict=True):
                self.known[text] = tokens
        for text, kept in zip(texts, stored, strict=True):
            if kept is None:
                self.known.move_to_end(text)
        found = [kept if kept is not None else self.known[text] for text, kept in zip(texts, stored, strict=True)]
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
