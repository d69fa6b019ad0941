"""A build's collections in Milvus created and written: its passages' vectors, words and records, their
vectors in context, their sentences, the sources and the manifest written last; switching the alias to it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient
from pymilvus.exceptions import MilvusException

from ...errors import IndexProblem
from ...records import PreparedCorpus, Source
from ..ann import HNSW_EF_CONSTRUCTION, HNSW_NEIGHBOURS, index_kind, inverted_lists
from ..index import BuiltParts, IndexManifest
from ..lexical import K1, Analyzer, B
from .common import CENTROID, CONTEXTS, KINDS, MANIFEST, RECORDS, ROWS, SENTENCES, message

if TYPE_CHECKING:
    from .place import MilvusPlace

LOG = logging.getLogger(__name__)
# Milvus needs a vector field in every collection; the records collection has no use for one.
PLACEHOLDER = [1.0, 0.0]
MAX_VARCHAR = 65_535  # Milvus's longest VARCHAR, in bytes
INSERT_BATCH = 512  # rows per insert call: 384-d vectors make about 1 MB, far under gRPC's 64 MB message limit
INDEX_TYPES = {"exact": ("FLAT", {}), "ivf-sq8": ("IVF_SQ8", {}),
               "hnsw": ("HNSW", {"M": HNSW_NEIGHBOURS, "efConstruction": HNSW_EF_CONSTRUCTION})}


def index_params(client: MilvusClient, kind: str, count: int):
    """Milvus's index for passage or sentence vectors, chosen as the FAISS store chooses (store/ann.py)."""
    name, params = INDEX_TYPES[index_kind(kind, count)]
    if name == "IVF_SQ8":
        params = {"nlist": inverted_lists(count)}
    chosen = client.prepare_index_params()
    chosen.add_index("vector", index_type=name, metric_type="IP", params=params)
    return chosen


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


def write_rows(client: MilvusClient, place: MilvusPlace, build: str, corpus: PreparedCorpus,
               parts: BuiltParts) -> None:
    words = Analyzer().tokens_many(parts.texts)
    groups = {row: group for group in parts.duplicates for row in group}
    offsets = parts.sentences.offsets.tolist()
    records = [{"passage": p.to_dict(), "copies": groups.get(row, []), "sentences": offsets[row:row + 2]}
               for row, p in enumerate(corpus.answerable)]
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


def write_records(client: MilvusClient, place: MilvusPlace, build: str, corpus: PreparedCorpus,
                  parts: BuiltParts, manifest: IndexManifest) -> None:
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


def source_spans(corpus: PreparedCorpus) -> Iterator[tuple[Source, list[int]]]:
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


def drop_build(client: MilvusClient, place: MilvusPlace, build: str) -> None:
    for kind in KINDS:
        try:
            client.drop_collection(place.collection(build, kind))
        except MilvusException as exc:
            LOG.warning("could not drop %s: %s", place.collection(build, kind), message(exc))
