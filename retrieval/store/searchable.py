"""What a Retriever reads from a store, whichever holds the index: FAISS files on disk (store/index.py) or
Milvus (store/milvus/). Questions' vectors and words in; rows, scores, passage and sentence vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..records import Passage, Source
from .index import IndexManifest
from .lexical import LexicalHits, WordStatistics
from .sentences import SentenceTable


class SearchIndex(Protocol):
    """An opened index. A row is a passage with vectors; every method answering for several questions or rows
    answers in their order. Passages are asked for by row or by source, so a store need not hold them all."""

    manifest: IndexManifest
    sources: dict[str, Source]
    centroid: np.ndarray  # the mean of the passages' own vectors

    def passages_at(self, rows: Sequence[int]) -> list[Passage]:
        """The passage of each row."""

    def copies_of(self, row: int) -> list[int]:
        """Every row holding the same text as this one, itself included."""

    def passages_of(self, source_id: str) -> list[Passage]:
        """Every block of a source in document order, headings and captions included."""

    def answerable_count(self, source_id: str) -> int:
        """How many of a source's blocks are passages with vectors."""

    @property
    def count(self) -> int:
        """How many rows can be found."""

    def terms_many(self, texts: list[str]) -> list[set[str]]:
        """The words of each text that BM25 matches on, as the index analysed its passages."""

    def nearest(self, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        """For each question vector, the `depth` rows whose passage vectors are closest."""

    def nearest_by_sentence(self, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        """For each question vector, the rows of the `depth` closest sentences (a row may come more than once)."""

    def word_statistics(self, terms: set[str]) -> WordStatistics:
        """The row count and these words' document frequencies, from which BM25 takes each word's idf."""

    def lexical_hits(self, terms: list[set[str]], depth: int,
                     statistics: list[WordStatistics] | None = None) -> list[LexicalHits]:
        """For each question's words, its top `depth` rows by BM25 and a way to score any other row; with
        `statistics` (one per question: those of several libraries searched as one), idf and ceiling from them."""

    def cosines_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Each row's passage cosine to the question, exact whatever the search index compresses."""

    def context_cosines_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Each row's cosine to the question read in its context (ingest/context.py), exact likewise."""

    def best_sentences_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Each row's highest sentence cosine to the question, exact likewise."""

    def token_vectors_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        """Each row's token vectors as its build kept them (store/tokens.py), or None where it kept none: late
        interaction then reads that passage with the model."""

    def token_sentences_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        """Each row's kept word pieces' sentences (store/tokens.py), or None where the build kept none."""

    def sentences_of(self, rows: np.ndarray) -> SentenceTable:
        """The sentences (spans and vectors) of these rows: in the table returned, the i-th row asked for is
        row i."""
