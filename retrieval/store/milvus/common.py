"""What every part of the Milvus store shares: the names of a build's collections and records, reading a
build's manifest, looking entities up by key, and turning Milvus's failures into the project's errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pymilvus import MilvusClient
from pymilvus.client.types import LoadState
from pymilvus.exceptions import MilvusException

from ...errors import IndexCorrupt, StoreUnavailable
from ..index import IndexManifest, manifest_from

if TYPE_CHECKING:
    from .place import MilvusPlace

ROWS, CONTEXTS, SENTENCES, RECORDS = "rows", "contexts", "sentences", "records"  # the collections of one build
KINDS = (ROWS, CONTEXTS, SENTENCES, RECORDS)
VECTOR_KINDS = (ROWS, CONTEXTS, SENTENCES)
KEYED_BY_ROW = (ROWS, CONTEXTS)  # one entity a row; a sentence's entity is keyed by its own number
# Milvus's code for "collection not loaded" (merr's ErrCollectionNotLoaded; Milvus Lite's legacy code as well)
NOT_LOADED = 101
MANIFEST = "manifest"  # the record written last: a build without one is unfinished
CENTROID = "centroid"  # the record of the mean passage vector
IN_CHUNK = 1024  # ids named in one `in` filter or get


def named(collection: str) -> tuple[str, str, str]:
    """(index name, build, kind) of a collection MilvusPlace.collection named; empty parts for another's."""
    prefix, _, rest = collection.partition("__")
    build, _, kind = rest.partition("__")
    return prefix, build, kind


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
