"""Lexical search beside the dense index: BM25 (bm25s) with English stopwords and Snowball stemming."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import Stemmer

STEMMER_LANGUAGE = "english"
STOPWORDS = "en"


class Lexical:
    """A BM25 index over the same rows as the dense vectors."""

    def __init__(self, model: bm25s.BM25) -> None:
        self.model = model
        self.stemmer = Stemmer.Stemmer(STEMMER_LANGUAGE)

    @classmethod
    def build(cls, texts: list[str]) -> Lexical:
        stemmer = Stemmer.Stemmer(STEMMER_LANGUAGE)
        model = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=stemmer, show_progress=False)
        model.index(tokens, show_progress=False)
        return cls(model)

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        return cls(bm25s.BM25.load(str(folder)))

    def save(self, folder: Path) -> None:
        self.model.save(str(folder))

    def terms(self, text: str) -> set[str]:
        """The stemmed words of a text that BM25 would match on (stopwords left out)."""
        return set(bm25s.tokenize([text], stopwords=STOPWORDS, stemmer=self.stemmer, return_ids=False,
                                  show_progress=False)[0])

    def scores(self, question: str) -> np.ndarray:
        """The BM25 score of every row for the question (zeros when none of its words is indexed)."""
        tokens = list(self.terms(question))
        if not tokens:  # only stopwords, emoji or punctuation
            return np.zeros(self.model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)
