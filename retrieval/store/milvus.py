"""The index in Milvus: each build's passage vectors, the passages' vectors in context, sentence vectors and BM25
terms (Milvus's own BM25 function, over the words our analyser stems) in collections of its own, the passages' text
and metadata beside them; one alias names the live build, so a build switches in atomically. Passages and vectors
in, a SearchIndex out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
from cachetools import LRUCache
from pymilvus import DataType, Function, FunctionType, MilvusClient
from pymilvus.client.types import LoadState
from pymilvus.exceptions import MilvusException

from ..encode.embed import ModelIdentity, TextEncoder
from ..errors import IndexCorrupt, IndexMissing, IndexProblem, StoreUnavailable
from ..ingest.corpus import Corpus
from ..records import Passage, Source
from .ann import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_NEIGHBOURS, NPROBE, index_kind, inverted_lists
from .build import build_parts
from .index import BuiltParts, IndexManifest, manifest_from, new_manifest
from .lexical import K1, Analyzer, B, LexicalHits, WordStatistics, ceiling, idf
from .reuse import CONTEXTS as CONTEXTS_FILES
from .reuse import NOTHING, PASSAGES, Previous
from .reuse import previous_vectors as faiss_vectors
from .sentences import SentenceTable

LOG = logging.getLogger(__name__)
T = TypeVar("T")


class StartFailure(logging.Filter):
    """Milvus Lite logs a traceback when it cannot open its file, before pymilvus raises: connect() says
    the same in one line that says what to do, so the traceback is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to start MilvusLite server")


logging.getLogger("milvus_lite.server_manager").addFilter(StartFailure())

ROWS, CONTEXTS, SENTENCES, RECORDS = "rows", "contexts", "sentences", "records"  # the collections of one build
KINDS = (ROWS, CONTEXTS, SENTENCES, RECORDS)
VECTOR_KINDS = (ROWS, CONTEXTS, SENTENCES)
KEYED_BY_ROW = (ROWS, CONTEXTS)  # one entity a row; a sentence's entity is keyed by its own number
# Milvus's code for "collection not loaded" (merr's ErrCollectionNotLoaded; Milvus Lite's legacy code as well)
NOT_LOADED = 101
MANIFEST = "manifest"  # the record written last: a build without one is unfinished
CENTROID = "centroid"  # the record of the mean passage vector
# Milvus needs a vector field in every collection; the records collection has no use for one.
PLACEHOLDER = [1.0, 0.0]
MAX_VARCHAR = 65_535  # Milvus's longest VARCHAR, in bytes
INSERT_BATCH = 512  # rows per insert call: 384-d vectors make about 1 MB, far under gRPC's 64 MB message limit
IN_CHUNK = 1024  # ids named in one `in` filter or get
PAGE = 4096  # entities read in one query when reading a whole collection
TERM_CACHE = 100_000  # document frequencies kept per opened index; a build never changes them
ROW_CACHE = 10_000  # rows' records kept: the hits of the last few thousand questions
SOURCE_CACHE = 16  # sources' blocks kept, for reading a source page by page
# An unfinished build older than this was left by a crash (a 10-million-passage build embeds for hours on 2
# cores, but it writes to Milvus only at the end), so its collections may be removed.
STALE_BUILD = timedelta(hours=6)
# Milvus scores BM25 with Lucene's term factor times (k1 + 1); bm25s, whose scores the gate was calibrated on,
# leaves the (k1 + 1) out. Dividing by it makes the two agree (tests/retrieval/store/test_milvus.py).
MILVUS_BM25_SCALE = K1 + 1
INDEX_TYPES = {"exact": ("FLAT", {}), "ivf-sq8": ("IVF_SQ8", {}),
               "hnsw": ("HNSW", {"M": HNSW_NEIGHBOURS, "efConstruction": HNSW_EF_CONSTRUCTION})}


@dataclass(frozen=True)
class MilvusPlace:
    """An index kept in Milvus: the server (a URL) or Milvus Lite file (a path ending .db), and the name of
    the alias that points to its live build (the prefix of its collections too)."""

    uri: str
    name: str = "sourcebot"

    def __str__(self) -> str:
        return f"{self.uri} (collection {self.name})"

    def connect(self) -> MilvusClient:
        try:
            return MilvusClient(self.uri)
        except (MilvusException, OSError, RuntimeError) as exc:
            if "://" not in self.uri:
                raise IndexProblem(
                    f"cannot open the Milvus Lite file {self.uri}: another process may have it open (Milvus Lite "
                    "serves one process: to share it, run `python -m milvus_lite server --data-dir "
                    f"{self.uri} --host 127.0.0.1` and set `milvus_uri` to its URL), or it is not Milvus Lite's"
                ) from None
            raise IndexProblem(f"cannot reach Milvus at {self.uri} ({message(exc)}); start it, or set "
                               "`milvus_uri` in [retrieval] to a running server or a .db file") from None

    def collection(self, build: str, kind: str) -> str:
        return f"{self.name}__{build}__{kind}"  # read back by named()

    def live_build(self, client: MilvusClient) -> str | None:
        """The build the alias names now, or None when there is none yet."""
        with milvus_errors(self):
            if self.name not in client.list_aliases().get("aliases", []):
                return None
            target = client.describe_alias(self.name)["collection_name"]
        prefix, build, kind = named(target)
        if prefix != self.name or kind != RECORDS:
            raise IndexCorrupt(f"the alias {self.name!r} in Milvus at {self.uri} names {target!r}, not one of "
                               "this index's builds; drop the alias and build again")
        return build

    def builds(self, client: MilvusClient) -> dict[str, set[str]]:
        """Every build with collections in Milvus, and which of its collections exist."""
        found: dict[str, set[str]] = {}
        with milvus_errors(self):
            names = client.list_collections()
        for name in names:
            prefix, build, kind = named(name)
            if prefix == self.name and kind in KINDS:
                found.setdefault(build, set()).add(kind)
        return found

    # What the loader asks of a place (store/places.py)
    def manifest(self) -> IndexManifest:
        client = self.connect()
        return read_manifest(self, client, self.existing_build(client))

    def existing_build(self, client: MilvusClient) -> str:
        build = self.live_build(client)
        if build is None:
            raise IndexMissing(f"no index {self.name!r} in Milvus at {self.uri} yet; build it with "
                               "`python -m retrieval build`")
        return build

    def has_build(self) -> bool:
        return self.live_build(self.connect()) is not None

    def build(self, corpus: Corpus, encoder: TextEncoder, sources_path: Path, progress: bool = True,
              reuse: bool = True, index_type: str = "auto", vectors_from: Path | None = None) -> IndexManifest:
        return build_milvus(self, corpus, encoder, sources_path, progress, reuse, index_type, vectors_from)

    def open(self) -> MilvusIndex:
        return open_milvus(self)

    def remove(self) -> None:
        client = self.connect()
        with milvus_errors(self):
            if self.name in client.list_aliases().get("aliases", []):
                client.drop_alias(self.name)
            for build in self.builds(client):
                drop_build(client, self, build)


def named(collection: str) -> tuple[str, str, str]:
    """(index name, build, kind) of a collection MilvusPlace.collection named; empty parts for another's."""
    prefix, _, rest = collection.partition("__")
    build, _, kind = rest.partition("__")
    return prefix, build, kind


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


def index_params(client: MilvusClient, kind: str, count: int):
    """Milvus's index for passage or sentence vectors, chosen as the FAISS store chooses (store/ann.py)."""
    name, params = INDEX_TYPES[index_kind(kind, count)]
    if name == "IVF_SQ8":
        params = {"nlist": inverted_lists(count)}
    chosen = client.prepare_index_params()
    chosen.add_index("vector", index_type=name, metric_type="IP", params=params)
    return chosen


# Search-time settings, as store/ann.py sets them on FAISS indexes; each index type reads its own.
SEARCH_PARAMS = {"nprobe": NPROBE, "ef": HNSW_EF_SEARCH}


def create_collections(client: MilvusClient, place: MilvusPlace, build: str, dimension: int, rows: int,
                       sentences: int, kind: str) -> None:
    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("hash", DataType.VARCHAR, max_length=64)
    # our analyser's words, space-separated: Milvus's standard tokenizer splits them back unchanged
    schema.add_field("words", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("record", DataType.JSON)  # the passage, its duplicate group and its sentences' numbers
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["words"],
                                 output_field_names=["bm25"]))
    chosen = index_params(client, kind, rows)
    chosen.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": K1, "bm25_b": B})
    create(client, place.collection(build, ROWS), schema, chosen)

    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("hash", DataType.VARCHAR, max_length=64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    create(client, place.collection(build, CONTEXTS), schema, index_params(client, kind, rows))

    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("row", DataType.INT64)
    schema.add_field("start", DataType.INT32)
    schema.add_field("end", DataType.INT32)
    schema.add_field("hash", DataType.VARCHAR, max_length=64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    create(client, place.collection(build, SENTENCES), schema, index_params(client, kind, sentences))

    schema = client.create_schema(auto_id=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=MAX_VARCHAR)
    schema.add_field("kind", DataType.VARCHAR, max_length=16)
    schema.add_field("value", DataType.JSON)
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(PLACEHOLDER))
    chosen = client.prepare_index_params()
    chosen.add_index("placeholder", index_type="FLAT", metric_type="IP")
    create(client, place.collection(build, RECORDS), schema, chosen)


def create(client: MilvusClient, name: str, schema, indexes) -> None:
    """A collection with its indexes, loaded. The indexes are asked for without waiting on each: pymilvus's
    wait polls every 0.5 s, and loading waits for them anyway. Reads are strongly consistent: a build is read
    back right after it is written (a server's default, bounded staleness, could miss its last rows)."""
    client.create_collection(name, schema=schema, consistency_level="Strong")
    client.create_index(name, indexes, sync=False)
    client.load_collection(name)


def build_milvus(place: MilvusPlace, corpus: Corpus, encoder: TextEncoder, sources_path: Path,
                 progress: bool = True, reuse: bool = True, index_type: str = "auto",
                 vectors_from: Path | None = None) -> IndexManifest:
    """Build the corpus into new collections, reusing the live build's vectors for unchanged texts (or, with no
    live build, those of the FAISS index at `vectors_from`: moving to Milvus embeds nothing again), then point
    the alias at them; the build that was live stays until the next one, so a reader on it finishes on it."""
    start = time.perf_counter()
    client = place.connect()
    live = place.live_build(client)
    lend = lender(place, client, live, encoder.identity, vectors_from) if reuse else (lambda files: None)
    parts = build_parts(corpus, encoder, index_type, progress, lend)
    build = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        with milvus_errors(place):
            create_collections(client, place, build, parts.vectors.shape[1], len(parts.vectors),
                               len(parts.sentences.vectors), index_type)
            write_rows(client, place, build, corpus, parts)
            manifest = new_manifest(corpus, parts, encoder.identity, sources_path, time.perf_counter() - start, {})
            write_records(client, place, build, corpus, parts, manifest)
            switch_alias(client, place, build)
    except BaseException:
        if place.live_build(client) != build:
            drop_build(client, place, build)
        raise
    remove_old_builds(client, place, keep={build, live})
    return manifest


def lender(place: MilvusPlace, client: MilvusClient, live: str | None, model: ModelIdentity,
           vectors_from: Path | None) -> Callable[[tuple[str, str]], Previous | None]:
    """Where a build's unchanged vectors come from: the live build, else a FAISS index, else nowhere."""
    if live:
        return lambda files: previous_vectors(place, client, live, model, files)
    if vectors_from:
        return lambda files: faiss_vectors(Path(vectors_from), model, files)
    return lambda files: None


def write_rows(client: MilvusClient, place: MilvusPlace, build: str, corpus: Corpus, parts: BuiltParts) -> None:
    words = Analyzer().tokens_many(parts.texts)
    groups = {row: group for group in parts.duplicates for row in group}
    offsets = parts.sentences.offsets.tolist()
    records = [{"passage": p.to_dict(), "copies": groups.get(row, []), "sentences": offsets[row:row + 2]}
               for row, p in enumerate(corpus.answerable())]
    rows = [{"row": row, "hash": digest.hex(), "words": " ".join(tokens), "vector": vector, "record": record}
            for row, (digest, tokens, vector, record) in enumerate(zip(parts.hashes.tolist(), words,
                                                                       parts.vectors.tolist(), records, strict=True))]
    for row in rows:
        if len(row["words"].encode()) > MAX_VARCHAR:
            raise IndexProblem(f"a passage of {len(row['words']):,} characters of words is too long for Milvus "
                               f"({MAX_VARCHAR:,} bytes); split it into paragraphs")
    insert(client, place.collection(build, ROWS), rows)
    insert(client, place.collection(build, CONTEXTS), (
        {"row": row, "hash": digest.hex(), "vector": vector}
        for row, (digest, vector) in enumerate(zip(parts.context_hashes.tolist(), np.asarray(parts.contexts).tolist(),
                                                   strict=True))))
    sentences = parts.sentences
    owners = sentences.rows()
    insert(client, place.collection(build, SENTENCES), (
        {"id": i, "row": int(owners[i]), "start": int(span[0]), "end": int(span[1]), "hash": digest.hex(),
         "vector": vector}
        for i, (span, digest, vector) in enumerate(zip(sentences.spans.tolist(), parts.sentence_hashes.tolist(),
                                                       np.asarray(sentences.vectors).tolist(), strict=True))))


def write_records(client: MilvusClient, place: MilvusPlace, build: str, corpus: Corpus, parts: BuiltParts,
                  manifest: IndexManifest) -> None:
    """The sources (each with the numbers of its blocks) and every block by number, for reading a source
    whole, and the words' document frequencies, then the manifest that makes the build whole."""
    records = [record(f"source:{n}", "source", {"source": source.to_dict(), "blocks": span})
               for n, (source, span) in enumerate(source_spans(corpus))]
    records += [record(f"passage:{at}", "passage", {"passage": p.to_dict()}) for at, p in enumerate(corpus.passages)]
    records += [record(f"term:{term}", "term", {"df": df})
                for term, df in parts.lexical.document_frequencies().items()]
    records.append(record(CENTROID, CENTROID, {"vector": parts.centroid.tolist()}))
    collection = place.collection(build, RECORDS)
    insert(client, collection, records)
    for kind in KINDS:
        client.flush(place.collection(build, kind))
    insert(client, collection, [record(MANIFEST, MANIFEST, asdict(manifest))])
    client.flush(collection)


def source_spans(corpus: Corpus) -> Iterator[tuple[Source, list[int]]]:
    """Each source with its blocks' numbers, first and one past the last (a corpus keeps a document's blocks
    together), and how many are answerable."""
    at: dict[str, list[int]] = {}
    for number, passage in enumerate(corpus.passages):
        at.setdefault(passage.source_id, []).append(number)
    for source in corpus.sources.values():
        numbers = at.get(source.id, [])
        if numbers and numbers[-1] - numbers[0] + 1 != len(numbers):
            raise IndexProblem(f"the blocks of {source.id} are not together in the corpus; report this")
        answerable = sum(1 for n in numbers if corpus.passages[n].answerable)
        yield source, [numbers[0], numbers[-1] + 1, answerable] if numbers else [0, 0, 0]


def record(key: str, kind: str, value: dict) -> dict:
    return {"key": key, "kind": kind, "value": value, "placeholder": PLACEHOLDER}


def insert(client: MilvusClient, collection: str, rows: Iterable[dict]) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == INSERT_BATCH:
            client.insert(collection, batch)
            batch = []
    if batch:
        client.insert(collection, batch)


def switch_alias(client: MilvusClient, place: MilvusPlace, build: str) -> None:
    target = place.collection(build, RECORDS)
    if place.name in client.list_aliases().get("aliases", []):
        client.alter_alias(target, place.name)
    else:
        client.create_alias(target, place.name)


def remove_old_builds(client: MilvusClient, place: MilvusPlace, keep: set[str | None]) -> None:
    """Drop every finished build older than those kept (a newer one belongs to a build still switching in)
    and every unfinished one a crash left long ago."""
    oldest_kept = min(k for k in keep if k)
    for build, kinds in place.builds(client).items():
        if build in keep:
            continue
        finished = RECORDS in kinds and bool(client.get(place.collection(build, RECORDS), ids=[MANIFEST]))
        if (finished and build < oldest_kept) or (not finished and started(build) < datetime.now(UTC) - STALE_BUILD):
            drop_build(client, place, build)


def started(build: str) -> datetime:
    try:
        return datetime.strptime(build, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:  # not a name this code gave: never old enough to remove
        return datetime.now(UTC)


def drop_build(client: MilvusClient, place: MilvusPlace, build: str) -> None:
    for kind in KINDS:
        try:
            client.drop_collection(place.collection(build, kind))
        except MilvusException as exc:
            LOG.warning("could not drop %s: %s", place.collection(build, kind), message(exc))


def previous_vectors(place: MilvusPlace, client: MilvusClient, build: str, model: ModelIdentity,
                     files: tuple[str, str]) -> Previous:
    """The live build's passage (PASSAGES) or sentence vectors by text hash, when the same model made them."""
    try:
        manifest = read_manifest(place, client, build)
    except IndexProblem:
        return NOTHING
    if not model.same_vectors(manifest.model_sha256, manifest.model_backend):
        return NOTHING
    kind, key = {PASSAGES: (ROWS, "row"), CONTEXTS_FILES: (CONTEXTS, "row")}.get(files, (SENTENCES, "id"))
    hashes: dict[bytes, int] = {}
    vectors: list[list[float]] = []
    with milvus_errors(place):
        for found in in_order(client, place.collection(build, kind), key, ["hash", "vector"]):
            hashes.setdefault(bytes.fromhex(found["hash"]), len(vectors))
            vectors.append(found["vector"])
    return Previous(hashes, np.array(vectors, dtype=np.float32).reshape(len(vectors), manifest.dimension))


def in_order(client: MilvusClient, collection: str, key: str, fields: list[str]) -> Iterator[dict]:
    """Every entity of a collection keyed 0, 1, 2 ... by `key`, a page at a time by key range (a query's
    offset and limit are capped at 16,384 on a Milvus server; a range is not)."""
    start = 0
    while page := client.query(collection, filter=f"{key} >= {start} and {key} < {start + PAGE}",
                               output_fields=[key, *fields]):
        yield from sorted(page, key=lambda found: found[key])
        start += PAGE


def read_manifest(place: MilvusPlace, client: MilvusClient, build: str) -> IndexManifest:
    with milvus_errors(place):
        load(client, place, build)
        found = client.get(place.collection(build, RECORDS), ids=[MANIFEST], output_fields=["value"])
    if not found:
        raise IndexCorrupt(f"the index at {place} names build {build}, which has no manifest; build again")
    return manifest_from(found[0]["value"], f"the index at {place}")


def load(client: MilvusClient, place: MilvusPlace, build: str) -> None:
    """Load a build's collections where they are not: a restarted Milvus (Milvus Lite always) has them released."""
    for kind in KINDS:
        name = place.collection(build, kind)
        if client.get_load_state(name)["state"] != LoadState.Loaded:
            client.load_collection(name)


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


def looked_up(client: MilvusClient, collection: str, key: str, keys: list, fields: list[str]) -> dict:
    """The entities of these primary keys that exist, by key (`key` names the primary key field)."""
    found: dict = {}
    for chunk in chunks(keys, IN_CHUNK):
        found.update((entity[key], entity) for entity in client.get(collection, ids=chunk, output_fields=fields))
    return found


def complete(found: dict, keys: set, where: str, what: str) -> dict:
    """`found`, when it holds every key; IndexCorrupt naming what is missing otherwise."""
    if len(found) < len(keys):
        raise IndexCorrupt(f"{where} lacks {len(keys) - len(found)} of its {what}; build again")
    return found


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def released(error: MilvusException) -> bool:
    """Whether Milvus refused because a collection is not loaded (released)."""
    text = message(error).lower()
    return getattr(error, "code", None) == NOT_LOADED or "released" in text or "not loaded" in text


def message(error: BaseException) -> str:
    return getattr(error, "message", "") or str(error) or type(error).__name__


@contextmanager
def milvus_errors(place: MilvusPlace) -> Iterator[None]:
    """Turn a failed Milvus call into a StoreUnavailable (an IndexProblem) that names the server and what to do."""
    try:
        yield
    except MilvusException as exc:
        raise StoreUnavailable(f"Milvus at {place.uri} failed ({message(exc)}); check that it is running, and "
                           "build again if the index is damaged") from None
