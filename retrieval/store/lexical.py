"""Lexical search beside the dense index: BM25 (bm25s) with English stopwords and Snowball stemming."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

STEMMER_LANGUAGE = "english"
STOPWORDS = "en"
# bm25s's defaults (Lucene's BM25), named because a store scoring BM25 elsewhere (Milvus) must use the same.
K1, B = 1.5, 0.75


class Analyzer:
    """Texts into the stemmed words BM25 indexes and matches on (stopwords left out). One per thread of use:
    the stemmer keeps state between calls."""

    def __init__(self) -> None:
        self.stemmer = Stemmer.Stemmer(STEMMER_LANGUAGE)

    def tokens_many(self, texts: list[str]) -> list[list[str]]:
        """Each text's words in order, repeats kept, in one tokenizer call: its fixed cost dominates for
        sentences and questions."""
        if not texts:
            return []
        return bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=self.stemmer, return_ids=False,
                              show_progress=False)

    def terms_many(self, texts: list[str]) -> list[set[str]]:
        """The distinct words of each text that BM25 would match on."""
        return [set(tokens) for tokens in self.tokens_many(texts)]


def idf(documents: int, frequency: np.ndarray | float) -> np.ndarray | float:
    """Lucene's idf, as bm25s (and Milvus's BM25 function) compute it, of words held by `frequency` documents."""
    return np.log1p((documents - frequency + 0.5) / (frequency + 0.5))


def ceiling(idfs: list[float]) -> float:
    """The highest BM25 score any passage could reach for a question of words with these idfs: every word
    matched, as often as can be: (k1 + 1) x the sum of the words' idf. (bm25s's Lucene term factor tends to 1,
    not k1 + 1, so real scores stay below 40% of this; the calibration in search/coverage.py was fitted on it.)"""
    return (K1 + 1) * float(sum(idfs))


@dataclass(frozen=True)
class WordStatistics:
    """What BM25's idf is computed from: how many rows there are and how many hold each word asked about.
    Several libraries searched as one add theirs, so a word is as rare or common as it is in all of them."""

    documents: int
    frequency: dict[str, int]

    def idf(self, term: str) -> float:
        return float(idf(self.documents, self.frequency.get(term, 0)))

    def ceiling(self, terms: set[str]) -> float:
        """The ceiling of a question of these terms. Words no passage holds count with the idf they would have,
        so a question about something absent never looks well matched."""
        return ceiling([self.idf(t) for t in terms])

    def __add__(self, other: WordStatistics) -> WordStatistics:
        words = self.frequency.keys() | other.frequency.keys()
        return WordStatistics(self.documents + other.documents,
                              {t: self.frequency.get(t, 0) + other.frequency.get(t, 0) for t in words})


@dataclass(frozen=True)
class LexicalHits:
    """A question's BM25 results: the top rows (score above zero), a way to score any rows, and the ceiling."""

    top: np.ndarray
    scores: Callable[[np.ndarray], np.ndarray]
    ceiling: float


class Lexical:
    """A BM25 index over the same rows as the dense vectors."""

    def __init__(self, model: bm25s.BM25) -> None:
        self.model = model
        self.analyzer = Analyzer()
        self.documents = int(model.scores["num_docs"])
        # the index is stored term by term: its documents per term
        self.frequency = np.diff(model.scores["indptr"])
        self.idf = idf(self.documents, self.frequency)

    @classmethod
    def build(cls, texts: list[str]) -> Lexical:
        model = bm25s.BM25(k1=K1, b=B)
        tokens = bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=Analyzer().stemmer, show_progress=False)
        model.index(tokens, show_progress=False)
        return cls(model)

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        return cls(bm25s.BM25.load(str(folder)))

    def save(self, folder: Path) -> None:
        self.model.save(str(folder))

    def terms_many(self, texts: list[str]) -> list[set[str]]:
        return self.analyzer.terms_many(texts)

    def document_frequencies(self) -> dict[str, int]:
        """How many rows hold each indexed word (bm25s's vocabulary also holds "", which no row does)."""
        frequency = self.frequency.tolist()
        return {term: frequency[at] for term, at in self.model.vocab_dict.items() if at < len(frequency)}

    def statistics(self, terms: set[str]) -> WordStatistics:
        """This index's row count and the document frequency of each of these words (0: none holds it)."""
        vocabulary, frequency = self.model.vocab_dict, self.frequency
        return WordStatistics(self.documents, {t: int(frequency[vocabulary[t]]) if t in vocabulary and
                                               vocabulary[t] < len(frequency) else 0 for t in terms})

    def scores_of(self, terms: set[str], statistics: WordStatistics | None = None) -> np.ndarray:
        """The BM25 score of every row for a question of these terms (zeros when none of them is indexed); with
        `statistics` (of several libraries together), each word weighs its idf there instead of here."""
        tokens = list(terms)
        if not tokens:  # only stopwords, emoji or punctuation
            return np.zeros(self.documents, dtype=np.float32)
        if statistics is None:
            return np.asarray(self.model.get_scores(tokens), dtype=np.float32)
        # bm25s stores each (word, row) score as the word's idf x its term factor, word by word: rescaling a word's
        # scores by the ratio of the two idfs gives the score under the shared statistics, exactly
        stored, vocabulary = self.model.scores, self.model.vocab_dict
        data, indices, pointers = stored["data"], stored["indices"], stored["indptr"]
        scores = np.zeros(self.documents, dtype=np.float32)
        for term in tokens:
            at = vocabulary.get(term)
            if at is None or at >= len(self.frequency):
                continue
            start, end = pointers[at], pointers[at + 1]
            scores[indices[start:end]] += data[start:end] * np.float32(statistics.idf(term) / self.idf[at])
        return scores

    def hits(self, terms: set[str], depth: int, statistics: WordStatistics | None = None) -> LexicalHits:
        """The top `depth` rows for a question of these terms, every row's score at hand; `statistics`: the
        word statistics of the libraries searched together (scores_of)."""
        scores = self.scores_of(terms, statistics)
        top = np.argpartition(-scores, depth - 1)[:depth] if depth < len(scores) else np.arange(len(scores))
        return LexicalHits(top[scores[top] > 0], lambda rows: scores[rows],
                           (statistics or self.statistics(terms)).ceiling(terms))
