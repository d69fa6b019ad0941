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
        documents = model.scores["num_docs"]
        frequency = np.diff(model.scores["indptr"])  # the index is stored term by term: its documents per term
        self.idf = np.log1p((documents - frequency + 0.5) / (frequency + 0.5))
        self.unseen_idf = float(np.log1p((documents + 0.5) / 0.5))  # a word no document holds

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

    def terms_many(self, texts: list[str]) -> list[set[str]]:
        """The stemmed words of each text that BM25 would match on (stopwords left out), in one tokenizer call:
        its fixed cost dominates for sentences and questions."""
        if not texts:
            return []
        return [set(tokens) for tokens in bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=self.stemmer,
                                                          return_ids=False, show_progress=False)]

    def ceiling_of(self, terms: set[str]) -> float:
        """The highest BM25 score any passage could reach for a question of these terms: every word matched, as
        often as can be, (k1 + 1) x the sum of the words' idf (Lucene's BM25, as bm25s scores). Words no passage
        holds count with the idf they would have, so a question about something absent never looks well
        matched."""
        vocabulary = self.model.vocab_dict
        idf = sum(float(self.idf[vocabulary[t]]) if t in vocabulary else self.unseen_idf for t in terms)
        return (self.model.k1 + 1) * idf

    def scores_of(self, terms: set[str]) -> np.ndarray:
        """The BM25 score of every row for a question of these terms (zeros when none of them is indexed)."""
        tokens = list(terms)
        if not tokens:  # only stopwords, emoji or punctuation
            return np.zeros(self.model.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)
