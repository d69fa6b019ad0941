"""Build a corpus into Milvus: embed (or reuse the live build's, or a FAISS index's, vectors), write a new
build beside the live one (write.py), switch the alias to it and remove builds no one reads any more."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pymilvus import MilvusClient

from ...encode.embed import ModelIdentity, TextEncoder
from ...errors import IndexProblem
from ...records import PreparedCorpus
from ..build import build_parts
from ..index import IndexManifest, new_manifest
from ..reuse import CONTEXTS as CONTEXTS_FILES
from ..reuse import NOTHING, PASSAGES, Previous
from ..reuse import previous_vectors as faiss_vectors
from .common import CONTEXTS, MANIFEST, RECORDS, ROWS, SENTENCES, milvus_errors, read_manifest
from .write import create_collections, drop_build, switch_alias, write_records, write_rows

if TYPE_CHECKING:
    from .place import MilvusPlace

PAGE = 4096  # entities read in one query when reading a whole collection
# An unfinished build older than this was left by a crash (a 10-million-passage build embeds for hours on 2
# cores, but it writes to Milvus only at the end), so its collections may be removed.
STALE_BUILD = timedelta(hours=6)


def build_milvus(place: MilvusPlace, corpus: PreparedCorpus, encoder: TextEncoder, sources_path: Path,
                 progress: bool = True, reuse: bool = True, index_type: str = "auto",
                 vectors_from: Path | None = None) -> IndexManifest:
    """Build the corpus into new collections, reusing the live build's vectors for unchanged texts (or, with no
    live build, those of the FAISS index at `vectors_from`: moving to Milvus embeds nothing again), then point
    the alias at them; the build that was live stays until the next one, so a reader on it finishes on it."""
    start = time.perf_counter()
    client = place.connect()
    live = place.live_build(client)
    lend = lender(place, client, live, encoder.identity, vectors_from) if reuse else (lambda files: None)
    parts = build_parts(corpus, encoder, index_type, progress, lend)  # Milvus keeps no token vectors
    build = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        with milvus_errors(place):
            create_collections(client, place, build, parts.vectors.shape[1], len(parts.vectors),
                               len(parts.sentences.vectors), index_type)
            write_rows(client, place, build, corpus, parts)
            manifest = new_manifest(corpus, parts, encoder.identity, sources_path,
                                    corpus.seconds + time.perf_counter() - start, {})
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
