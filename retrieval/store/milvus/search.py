"""An opened build in Milvus, searched there: questions' vectors and words in, rows, scores and passages
out (a SearchIndex, as store/index.py's FAISS index is)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from cachetools import LRUCache
from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException

from ...errors import IndexCorrupt
from ...records import Passage, Source
from ..ann import HNSW_EF_SEARCH, NPROBE
from ..index import IndexManifest
from ..lexical import K1, Analyzer, LexicalHits, WordStatistics, ceiling, idf
from ..sentences import SentenceTable
from .common import (
    CENTROID,
    CONTEXTS,
    IN_CHUNK,
    KEYED_BY_ROW,
    RECORDS,
    ROWS,
    SENTENCES,
    VECTOR_KINDS,
    chunks,
    complete,
    load,
    looked_up,
    milvus_errors,
    read_manifest,
    released,
)

if TYPE_CHECKING:
    from .place import MilvusPlace

LOG = logging.getLogger(__name__)
T = TypeVar("T")
TERM_CACHE = 100_000  # document frequencies kept per opened index; a build never changes them
ROW_CACHE = 10_000  # rows' records kept: the hits of the last few thousand questions
SOURCE_CACHE = 16  # sources' blocks kept, for reading a source page by page
# Milvus scores BM25 with Lucene's term factor times (k1 + 1); bm25s, whose scores the gate was calibrated on,
# leaves the (k1 + 1) out. Dividing by it makes the two agree (tests/retrieval/store/test_milvus.py).
MILVUS_BM25_SCALE = K1 + 1
# Search-time settings, as store/ann.py sets them on FAISS indexes; each index type reads its own.
SEARCH_PARAMS = {"nprobe": NPROBE, "ef": HNSW_EF_SEARCH}


@dataclass
class MilvusIndex:
    """An opened build in Milvus, searched there. Only its sources are read when it opens; a passage is
    fetched when a question or a reader needs it."""

    place: MilvusPlace
    client: MilvusClient
    build: str
    manifest: IndexManifest
    sources: dict[str, Source]
    spans: dict[str, tuple[int, int, int]]  # source id -> (first block's number, one past its last, answerable)
    centroid: np.ndarray  # the mean of the passages' own vectors
    exact: frozenset[str] = frozenset()  # the kinds (of VECTOR_KINDS) whose vector index is FLAT
    analyzer: Analyzer = field(default_factory=Analyzer)
    # The words' document frequencies, rows' records (passage, copies, sentence numbers) and sources' blocks
    # read lately: a build never changes them, and a hit shown, highlighted and cited is fetched once
    frequencies: LRUCache = field(default_factory=lambda: LRUCache(TERM_CACHE))
    records: LRUCache = field(default_factory=lambda: LRUCache(ROW_CACHE))
    blocks: LRUCache = field(default_factory=lambda: LRUCache(SOURCE_CACHE))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        return self.manifest.vectors

    def passages_at(self, rows: Sequence[int]) -> list[Passage]:
        found = self.row_records(rows)
        return [found[row]["passage"] for row in rows]

    def copies_of(self, row: int) -> list[int]:
        return self.row_records([row])[row]["copies"] or [row]

    def passages_of(self, source_id: str) -> list[Passage]:
        def read(_: list[str]) -> dict[str, list[Passage]]:
            first, end, _answerable = self.spans[source_id]
            blocks = self.call(lambda: numbered(self.client, self.place, self.build, "passage", range(first, end)))
            return {source_id: [Passage.from_dict(v["passage"]) for v in blocks]}

        return self.cached(self.blocks, [source_id], read)[source_id]

    def answerable_count(self, source_id: str) -> int:
        return self.spans[source_id][2]

    def row_records(self, rows: Sequence[int]) -> dict[int, dict]:
        """Each row's passage, duplicate group and sentence numbers."""
        return self.cached(self.records, rows, lambda missing: {
            row: {**e["record"], "passage": Passage.from_dict(e["record"]["passage"])}
            for row, e in self.by_key(ROWS, missing, ["record"]).items()})

    def cached(self, cache: LRUCache, keys: Iterable, fetch: Callable[[list], dict]) -> dict:
        """Each key's value, from `cache` or else from `fetch`, given the keys missing."""
        with self.lock:
            found = {key: cache[key] for key in keys if key in cache}
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            fetched = fetch(missing)
            with self.lock:
                cache.update(fetched)
            found.update(fetched)
        return found

    def terms_many(self, texts: list[str]) -> list[set[str]]:
        return self.analyzer.terms_many(texts)

    def nearest(self, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        return self.searched(ROWS, vectors, depth)

    def nearest_by_sentence(self, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        return self.searched(SENTENCES, vectors, depth)

    def searched(self, kind: str, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        found = self.call(lambda: self.client.search(
            self.place.collection(self.build, kind), data=vectors.tolist(), anns_field="vector", limit=depth,
            output_fields=["row"], search_params={"metric_type": "IP", "params": SEARCH_PARAMS}))
        return [np.array([hit["entity"]["row"] for hit in hits], dtype=np.int64) for hits in found]

    def word_statistics(self, terms: set[str]) -> WordStatistics:
        return WordStatistics(self.manifest.vectors, self.document_frequencies(terms))

    def lexical_hits(self, terms: list[set[str]], depth: int,
                     statistics: list[WordStatistics] | None = None) -> list[LexicalHits]:
        if statistics is not None:
            return [self.weighted_hits(each, depth, stats) for each, stats in zip(terms, statistics, strict=True)]
        frequency = self.document_frequencies(set().union(*terms))
        queries = [" ".join(sorted(each)) for each in terms]
        asked = [query for query in queries if query]
        found = iter(self.bm25(asked, depth) if asked else [])
        return [self.hits_of(each, query, next(found) if query else {}, frequency)
                for each, query in zip(terms, queries, strict=True)]

    def weighted_hits(self, terms: set[str], depth: int, statistics: WordStatistics) -> LexicalHits:
        """BM25 with each word's idf from `statistics` (several libraries' together) in place of this
        collection's, which Milvus folds into its scores: each word is searched alone (a score is a sum over
        words) and rescaled. The top list is drawn from each word's own top `depth`; every row it names, and
        any row asked for later, is then scored exactly."""
        local = self.word_statistics(terms)
        words = sorted(t for t in terms if local.frequency.get(t))  # a word no row holds scores nothing here
        weights = [statistics.idf(t) / local.idf(t) for t in words]
        known: dict[int, float] = {}

        def scores(rows: np.ndarray) -> np.ndarray:
            missing = [int(row) for row in rows.tolist() if int(row) not in known]
            for chunk in chunks(missing, IN_CHUNK) if words else []:
                per_word = self.bm25(words, len(chunk), f"row in {chunk}")
                for row in chunk:
                    known[row] = sum(w * found.get(row, 0.0) for w, found in zip(weights, per_word, strict=True))
            known.update((row, 0.0) for row in missing if row not in known)
            return np.array([known[int(row)] for row in rows.tolist()], dtype=np.float32)

        candidates = np.array(sorted(set().union(*self.bm25(words, depth))) if words else [], dtype=np.int64)
        scored = scores(candidates)
        order = np.argsort(-scored, kind="stable")[:depth]
        return LexicalHits(candidates[order][scored[order] > 0], scores, statistics.ceiling(terms))

    def hits_of(self, terms: set[str], query: str, top: dict[int, float],
                frequency: dict[str, int]) -> LexicalHits:
        known = dict(top)

        def scores(rows: np.ndarray) -> np.ndarray:
            missing = [int(row) for row in rows.tolist() if row not in known]
            if missing and query:
                for chunk in chunks(missing, IN_CHUNK):
                    known.update(self.bm25([query], len(chunk), f"row in {chunk}")[0])
                known.update((row, 0.0) for row in missing if row not in known)
            return np.array([known.get(int(row), 0.0) for row in rows.tolist()], dtype=np.float32)

        documents = self.manifest.vectors
        return LexicalHits(np.array(sorted(top), dtype=np.int64), scores,
                           ceiling([float(idf(documents, frequency[t])) for t in terms]))

    def bm25(self, queries: list[str], limit: int, where: str = "") -> list[dict[int, float]]:
        """Each query's top rows by Milvus's BM25, scored as bm25s scores (BM25 scores are never negative;
        Milvus Lite reports them negated, as distances)."""
        found = self.call(lambda: self.client.search(
            self.place.collection(self.build, ROWS), data=queries, anns_field="bm25", limit=limit, filter=where,
            output_fields=["row"], search_params={"metric_type": "BM25"}))
        return [{int(hit["entity"]["row"]): abs(float(hit["distance"])) / MILVUS_BM25_SCALE for hit in hits}
                for hits in found]

    def document_frequencies(self, terms: set[str]) -> dict[str, int]:
        """How many rows hold each word (0 for a word none holds), from the build's records."""
        def read(wanted: list[str]) -> dict[str, int]:
            found = self.call(lambda: looked_up(self.client, self.place.collection(self.build, RECORDS), "key",
                                                [f"term:{t}" for t in wanted], ["value"]))
            return {t: int(found[f"term:{t}"]["value"]["df"]) if f"term:{t}" in found else 0 for t in wanted}

        return self.cached(self.frequencies, terms, read)

    def cosines_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return self.row_cosines(ROWS, rows, vector)

    def context_cosines_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return self.row_cosines(CONTEXTS, rows, vector)

    def row_cosines(self, kind: str, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Each row's cosine to the question by its vector of `kind` (one of KEYED_BY_ROW): computed in Milvus
        when the index is exact, else from the stored vectors."""
        if kind in self.exact:
            return self.scored(kind, rows, vector)
        return self.embeddings_of(rows, kind) @ vector

    def best_sentences_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        if SENTENCES in self.exact:
            return self.scored(SENTENCES, rows, vector)
        return self.sentences_of(rows).best(vector)

    def scored(self, kind: str, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """The inner product of the question with each row's vector (ROWS, CONTEXTS), or with its best sentence's
        (SENTENCES: the best of each row's group), computed in Milvus, so no vector crosses the network: for
        a FLAT index, whose distances are exact (an approximate index's are not, nor need it find every row)."""
        found: dict[int, float] = {}
        grouped = {"group_by_field": "row", "group_size": 1} if kind == SENTENCES else {}
        for chunk in chunks(sorted(set(rows.tolist())), IN_CHUNK):
            hits = self.call(lambda chunk=chunk: self.client.search(
                self.place.collection(self.build, kind), data=[vector.tolist()], anns_field="vector",
                limit=len(chunk), filter=f"row in {chunk}", output_fields=["row"], search_params={"metric_type": "IP"},
                **grouped))[0]
            found.update((int(hit["entity"]["row"]), float(hit["distance"])) for hit in hits)
        complete(found, set(rows.tolist()), f"the index at {self.place}", f"{kind}' vectors")
        return np.array([found[row] for row in rows.tolist()], dtype=np.float32)

    def embeddings_of(self, rows: np.ndarray, kind: str) -> np.ndarray:
        vectors = self.by_key(kind, rows.tolist(), ["vector"])
        return np.array([vectors[row]["vector"] for row in rows.tolist()], dtype=np.float32).reshape(
            len(rows), self.manifest.dimension)

    def token_vectors_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        # Milvus keeps no token vectors (a collection of them would multiply its size by a passage's word
        # pieces): late interaction reads these passages with the model, and remembers them
        return [None] * len(rows)

    def token_sentences_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        return [None] * len(rows)

    def sentences_of(self, rows: np.ndarray) -> SentenceTable:
        records = self.row_records(rows.tolist())
        starts, ends = (np.array([records[row]["sentences"][end] for row in rows.tolist()], dtype=np.int64)
                        for end in (0, 1))
        ids = [i for a, b in zip(starts.tolist(), ends.tolist(), strict=True) for i in range(a, b)]
        found = self.by_key(SENTENCES, ids, ["start", "end", "vector"])
        every = [found[i] for i in ids]
        return SentenceTable(np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64),
                             np.array([[s["start"], s["end"]] for s in every], dtype=np.int32).reshape(-1, 2),
                             np.array([s["vector"] for s in every], dtype=np.float32).reshape(
                                 -1, self.manifest.dimension))

    def call(self, work: Callable[[], T]) -> T:
        """`work` against Milvus. A collection of the build found released (Milvus restarted, and a restarted
        Milvus loads nothing by itself) is loaded again and `work` tried once more: a replica recovers alone."""
        with milvus_errors(self.place):
            try:
                return work()
            except MilvusException as exc:
                if not released(exc):
                    raise
                LOG.warning("Milvus at %s had released the index's collections (restarted?); loading them again",
                            self.place.uri)
                load(self.client, self.place, self.build)
                return work()

    def by_key(self, kind: str, keys: list[int], fields: list[str]) -> dict[int, dict]:
        """Entities by primary key (a row, or a sentence's number): looked up, not filtered."""
        found = self.call(lambda: looked_up(self.client, self.place.collection(self.build, kind),
                                            "row" if kind in KEYED_BY_ROW else "id", sorted(set(keys)), fields))
        return complete(found, set(keys), f"the index at {self.place}", kind)


def open_milvus(place: MilvusPlace) -> MilvusIndex:
    """The live build, its sources read and checked against its manifest."""
    client = place.connect()
    build = place.existing_build(client)
    manifest = read_manifest(place, client, build)
    with milvus_errors(place):
        read = list(numbered(client, place, build, "source", range(manifest.sources)))
        centroid = looked_up(client, place.collection(build, RECORDS), "key", [CENTROID], ["value"])
        exact = frozenset(kind for kind in VECTOR_KINDS if client.describe_index(
            place.collection(build, kind), "vector").get("index_type") == "FLAT")
    sources = [Source(**v["source"]) for v in read]
    if sum(v["blocks"][2] for v in read) != manifest.vectors:
        raise IndexCorrupt(f"the index at {place} holds {sum(v['blocks'][2] for v in read)} passages with vectors, "
                           f"its manifest {manifest.vectors}; build again")
    complete(centroid, {CENTROID}, f"the index at {place}", "centroid record")
    return MilvusIndex(place, client, build, manifest, {s.id: s for s in sources},
                       {s.id: tuple(v["blocks"]) for s, v in zip(sources, read, strict=True)},
                       np.array(centroid[CENTROID]["value"]["vector"], dtype=np.float32), exact)


def numbered(client: MilvusClient, place: MilvusPlace, build: str, kind: str, numbers: range) -> Iterator[dict]:
    """The records `kind:N` for N in `numbers`, in order; IndexCorrupt when any is missing."""
    keys = [f"{kind}:{n}" for n in numbers]
    found = looked_up(client, place.collection(build, RECORDS), "key", keys, ["value"])
    complete(found, set(keys), f"the index at {place}", f"{kind} records")
    return (found[key]["value"] for key in keys)
