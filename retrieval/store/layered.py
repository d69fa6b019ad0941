"""Several opened indexes searched as one (the shared library, then a server's own): their rows numbered one after
another, each kind of candidate merged into one top list, and BM25 scored with the word statistics of all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from ..records import Passage, Source
from .index import IndexManifest
from .lexical import LexicalHits, WordStatistics
from .searchable import SearchIndex
from .sentences import SentenceTable

T = TypeVar("T")


class LayeredIndex:
    """A SearchIndex over `layers`, the first the shared library. A Retriever over it fuses, normalises and gates
    one pool of candidates, as it would over one index holding every layer's passages: the dense scores are
    cosines, comparable anywhere; each top list is cut to the same depth over all layers by exact score; BM25
    takes each word's idf (and the question's ceiling) from all layers' rows together, so a word common in the
    shared library is not rare because a server's three documents lack it. (Length normalisation stays each
    layer's own: bm25s stores it folded into its scores.) A later layer's source whose id an earlier layer
    already has is hidden, with its rows, rather than shown under the other's name."""

    def __init__(self, layers: Sequence[SearchIndex]) -> None:
        self.layers = list(layers)
        self.manifest: IndexManifest = self.layers[0].manifest
        self.starts = np.cumsum([0, *(layer.count for layer in self.layers)]).astype(np.int64)
        counts = np.array([layer.count for layer in self.layers], dtype=np.float64)
        self.centroid = (np.stack([layer.centroid for layer in self.layers]).T @ counts / max(counts.sum(), 1)
                         ).astype(np.float32)  # the mean over every layer's passages
        self.sources: dict[str, Source] = {}
        self.layer_of: dict[str, int] = {}
        self.hidden: list[set[str]] = []
        for number, layer in enumerate(self.layers):
            shadowed = set(layer.sources) & set(self.sources)
            self.hidden.append(shadowed)
            for source_id, source in layer.sources.items():
                if source_id not in shadowed:
                    self.sources[source_id] = source
                    self.layer_of[source_id] = number

    def library(self, source_id: str) -> int:
        """Which layer a source is in (0: the shared library)."""
        return self.layer_of[source_id]

    # -- rows -----------------------------------------------------------------------------------------

    def split(self, rows: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(layer, positions in `rows`, the layer's own row numbers) for each layer some of `rows` are in."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return []
        layer_of = np.searchsorted(self.starts, rows, side="right") - 1
        # grouped by one stable sort, not a pass per layer: a server's library is a layer per document
        order = np.argsort(layer_of, kind="stable")
        numbers, firsts = np.unique(layer_of[order], return_index=True)
        return [(int(number), where, rows[where] - self.starts[number])
                for number, where in zip(numbers.tolist(), np.split(order, firsts[1:]), strict=True)]

    def joined(self, rows: np.ndarray, each: list[np.ndarray]) -> np.ndarray:
        """One value per row from each layer's values for its own rows."""
        out: np.ndarray | None = None
        for (_, where, _), values in zip(self.split(rows), each, strict=True):
            if out is None:
                out = np.zeros(len(rows), dtype=values.dtype)
            out[where] = values
        return out if out is not None else np.zeros(0, dtype=np.float32)

    def visible(self, number: int, local: np.ndarray) -> np.ndarray:
        """A layer's rows without those of its hidden sources."""
        if not self.hidden[number] or not len(local):
            return local
        passages = self.layers[number].passages_at(local.tolist())
        return local[[p.source_id not in self.hidden[number] for p in passages]]

    def passages_at(self, rows: Sequence[int]) -> list[Passage]:
        return self.each_row(rows, lambda layer, local: layer.passages_at(local))

    def each_row(self, rows: Sequence[int], read: Callable[[SearchIndex, list[int]], list[T]]) -> list[T]:
        """One item per row, in their order, each layer reading its own rows (`read`: a layer and its row numbers
        in, one item each out)."""
        found: list[T | None] = [None] * len(rows)
        for number, where, local in self.split(np.asarray(rows, dtype=np.int64)):
            for at, item in zip(where.tolist(), read(self.layers[number], local.tolist()), strict=True):
                found[at] = item
        return found  # type: ignore[return-value]  # every position is in some layer

    def copies_of(self, row: int) -> list[int]:
        ((number, _, local),) = self.split(np.array([row]))
        start = int(self.starts[number])
        return [start + other for other in self.layers[number].copies_of(int(local[0]))]

    def passages_of(self, source_id: str) -> list[Passage]:
        return self.layers[self.layer_of[source_id]].passages_of(source_id)

    def answerable_count(self, source_id: str) -> int:
        return self.layers[self.layer_of[source_id]].answerable_count(source_id)

    @property
    def count(self) -> int:
        return int(self.starts[-1])

    # -- searching ------------------------------------------------------------------------------------

    def terms_many(self, texts: list[str]) -> list[set[str]]:
        return self.layers[0].terms_many(texts)  # every layer analyses words alike (store/lexical.py)

    def nearest(self, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        found = [layer.nearest(vectors, depth) for layer in self.layers]
        return [self.cut(self.merged([f[q] for f in found]), depth, lambda rows, v=vector: self.cosines_of(rows, v))
                for q, vector in enumerate(vectors)]

    def nearest_by_sentence(self, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        found = [layer.nearest_by_sentence(vectors, depth) for layer in self.layers]
        return [self.cut(self.merged([np.unique(f[q]) for f in found]), depth,
                         lambda rows, v=vector: self.best_sentences_of(rows, v)) for q, vector in enumerate(vectors)]

    def word_statistics(self, terms: set[str]) -> WordStatistics:
        total = WordStatistics(0, {})
        for layer in self.layers:
            total = total + layer.word_statistics(terms)
        return total

    def lexical_hits(self, terms: list[set[str]], depth: int,
                     statistics: list[WordStatistics] | None = None) -> list[LexicalHits]:
        statistics = statistics or [self.word_statistics(each) for each in terms]
        found = [layer.lexical_hits(terms, depth, statistics) for layer in self.layers]
        merged = []
        for q in range(len(terms)):
            each = [f[q] for f in found]

            def scores(rows: np.ndarray, each: list[LexicalHits] = each) -> np.ndarray:
                return self.joined(rows, [each[number].scores(local) for number, _, local in self.split(rows)])

            top = self.cut(self.merged([hits.top for hits in each]), depth, scores)
            merged.append(LexicalHits(top, scores, each[0].ceiling))  # the same statistics: the same ceiling
        return merged

    def merged(self, each: list[np.ndarray]) -> np.ndarray:
        """Every layer's rows (its visible ones), numbered as this index numbers them."""
        return np.concatenate([self.starts[n] + self.visible(n, np.asarray(rows, dtype=np.int64))
                               for n, rows in enumerate(each)]).astype(np.int64)

    @staticmethod
    def cut(rows: np.ndarray, depth: int, score) -> np.ndarray:
        """The `depth` best of `rows` by `score`, as one index's top list would hold them."""
        if len(rows) <= depth:
            return rows
        return rows[np.argsort(-score(rows), kind="stable")[:depth]]

    def cosines_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return self.per_layer(rows, lambda layer, local: layer.cosines_of(local, vector))

    def context_cosines_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return self.per_layer(rows, lambda layer, local: layer.context_cosines_of(local, vector))

    def best_sentences_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return self.per_layer(rows, lambda layer, local: layer.best_sentences_of(local, vector))

    def per_layer(self, rows: np.ndarray, score: Callable[[SearchIndex, np.ndarray], np.ndarray]) -> np.ndarray:
        """One score per row, each layer scoring its own rows."""
        return self.joined(rows, [score(self.layers[n], local) for n, _, local in self.split(rows)])

    def token_vectors_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        return self.each_row(rows, lambda layer, local: layer.token_vectors_of(local))

    def token_sentences_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        return self.each_row(rows, lambda layer, local: layer.token_sentences_of(local))

    def sentences_of(self, rows: np.ndarray) -> SentenceTable:
        parts = self.split(rows)
        if len(parts) <= 1:  # all in one layer (or none asked for): its table is already in the order asked
            number, _, local = parts[0] if parts else (0, None, np.zeros(0, dtype=np.int64))
            return self.layers[number].sentences_of(local)
        tables = [(where, self.layers[number].sentences_of(local)) for number, where, local in parts]
        picks: list[tuple[SentenceTable, int]] = [None] * len(rows)  # type: ignore[list-item]
        for where, table in tables:
            for i, at in enumerate(where.tolist()):
                picks[at] = (table, i)
        spans = [table.spans[table.of(i)] for table, i in picks]
        vectors = [np.asarray(table.vectors[table.of(i)]) for table, i in picks]
        offsets = np.concatenate([[0], np.cumsum([len(s) for s in spans])]).astype(np.int64)
        return SentenceTable(offsets, np.concatenate(spans), np.concatenate(vectors))
