"""The index on disk: FAISS vectors beside the passages, sources and a manifest, swapped in atomically."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import faiss
import numpy as np

from ..encode.embed import ModelIdentity, sha256_file
from ..errors import IndexCorrupt, IndexMissing, IndexProblem, IndexStale
from ..records import Passage, PreparedCorpus, Source
from .ann import build_ann, tune
from .lexical import Lexical, LexicalHits, WordStatistics
from .lock import LOCK, writer_lock
from .sentences import SENTENCE_HASHES, SentenceTable
from .tokens import TokenTable

# 2: BM25 and duplicate groups; 3: raw embeddings kept for reuse; 4: the model's backend;
# 5: model_sha256 covers every model file that shapes the vectors, not only the weights; 6: sentence vectors;
# 7: each passage's vector in its context
FORMAT_VERSION = 7
CURRENT = "current"  # a symlink to the live build, replaced in one atomic rename
BUILDS = "builds"
SERVERS = "servers"  # the shared index's folder holds each server's own index in servers/<id>/ (libraries.py)
DOCUMENTS = "documents"  # ... and there each of its documents' index, in documents/<key>/ (places.document_place)
MANIFEST, VECTORS, PASSAGES, SOURCES = "manifest.json", "vectors.faiss", "passages.jsonl", "sources.json"
LEXICAL, DUPLICATES = "lexical", "duplicates.json"
EMBEDDINGS, HASHES = "embeddings.npy", "hashes.npy"  # raw vectors and the sha256 of each indexed text
CONTEXT_VECTORS, CONTEXT_HASHES = "context_embeddings.npy", "context_hashes.npy"  # ... of each text in context
SENTENCE_ANN = "sentences.faiss"
CENTROID = "centroid.npy"  # the mean of the passage vectors
T = TypeVar("T")
BATCH_EXACT = 20  # FAISS's distance_compute_blas_threshold: from this many questions its flat search uses BLAS


@dataclass(frozen=True)
class IndexManifest:
    """What an index was built from and with; checked every time the index is opened."""

    format_version: int
    model_name: str
    model_sha256: str
    model_backend: str
    dimension: int
    corpus_fingerprint: str
    sources_path: str
    built_at: str
    build_seconds: float
    embedded: int
    sources: int
    passages: int
    vectors: int
    checksums: dict[str, str]
    # The documents left out as unreadable, each {"file": ..., "reason": ...}; absent from manifests written
    # before it was recorded, which read as none skipped (hence no new format version).
    skipped: list[dict[str, str]] = field(default_factory=list)


# What each manifest field's annotation (a string, under `from __future__ import annotations`) accepts from
# JSON; bool counts as int in Python but never in a manifest.
JSON_CHECKS: dict[str, Callable[[object], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "dict[str, str]": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in (*v, *v.values())),
    "list[dict[str, str]]": lambda v: isinstance(v, list) and all(
        isinstance(d, dict) and all(isinstance(x, str) for x in (*d, *d.values())) for d in v),
}


@dataclass(frozen=True)
class StoredIndex:
    """An opened index: the FAISS vectors, every passage, and which passage each vector row is."""

    path: Path
    manifest: IndexManifest
    vectors: faiss.Index
    embeddings: np.ndarray  # the raw vectors, memory-mapped: exact cosines whatever the index compresses
    lexical: Lexical
    passages: list[Passage]
    rows: list[int]  # rows[vector row] = position in passages
    sources: dict[str, Source]
    duplicates: dict[int, list[int]]  # vector row -> every row holding the same text (itself included)
    sentences: SentenceTable  # each row's sentences: spans and vectors
    sentence_search: faiss.Index  # the sentence vectors, searched like the passages'
    sentence_rows: np.ndarray  # the row of each sentence
    by_source: dict[str, list[Passage]]
    contexts: np.ndarray  # each row's vector read after the paragraph before it (ingest/context.py), memory-mapped
    centroid: np.ndarray  # the mean of the rows' own vectors: where the corpus's topics lie
    tokens: TokenTable | None = None  # each row's token vectors, when the build kept them
    answerable: dict[str, int] = field(default_factory=dict)  # each source's passages with vectors

    # What a Retriever reads (store/searchable.py: SearchIndex)
    def passages_at(self, rows: Sequence[int]) -> list[Passage]:
        return [self.passages[self.rows[row]] for row in rows]

    def copies_of(self, row: int) -> list[int]:
        return self.duplicates.get(row, [row])

    def passages_of(self, source_id: str) -> list[Passage]:
        return self.by_source[source_id]

    def answerable_count(self, source_id: str) -> int:
        self.by_source[source_id]  # KeyError for a source not in the index, as before
        return self.answerable.get(source_id, 0)

    @property
    def count(self) -> int:
        return self.vectors.ntotal

    def terms_many(self, texts: list[str]) -> list[set[str]]:
        return self.lexical.terms_many(texts)

    def nearest(self, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        return searched(self.vectors, self.embeddings, vectors, depth)

    def nearest_by_sentence(self, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
        return [self.sentence_rows[hits] for hits in searched(self.sentence_search, self.sentences.vectors,
                                                              vectors, depth)]

    def word_statistics(self, terms: set[str]) -> WordStatistics:
        return self.lexical.statistics(terms)

    def lexical_hits(self, terms: list[set[str]], depth: int,
                     statistics: list[WordStatistics] | None = None) -> list[LexicalHits]:
        weighed = statistics or [None] * len(terms)
        return [self.lexical.hits(each, depth, stats) for each, stats in zip(terms, weighed, strict=True)]

    def cosines_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return self.embeddings[rows] @ vector

    def context_cosines_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return self.contexts[rows] @ vector

    def best_sentences_of(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return self.sentences_of(rows).best(vector)

    def token_vectors_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        return self.tokens.rows(rows) if self.tokens is not None else [None] * len(rows)

    def token_sentences_of(self, rows: Sequence[int]) -> list[np.ndarray | None]:
        return self.tokens.sentences_of(rows) if self.tokens is not None else [None] * len(rows)

    def sentences_of(self, rows: np.ndarray) -> SentenceTable:
        starts, ends = self.sentences.offsets[rows], self.sentences.offsets[rows + 1]
        which = np.concatenate([np.arange(a, b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
                               or [np.zeros(0, dtype=np.int64)])
        return SentenceTable(np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64),
                             self.sentences.spans[which], np.asarray(self.sentences.vectors[which]))


def searched(index: faiss.Index, stored: np.ndarray, vectors: np.ndarray, depth: int) -> list[np.ndarray]:
    """The `depth` nearest of the `stored` vectors that `index` holds, for each question vector. Many questions
    at once on an exact index are one matrix product and a partial sort: FAISS's flat search, which takes its
    BLAS path from BATCH_EXACT questions, ran 4.4x slower here (219 against 50 ms for 32 SciFact claims over
    45,034 sentence vectors, one BLAS thread; BENCHMARKS.md, "Batched questions")."""
    depth = min(depth, index.ntotal)
    if isinstance(index, faiss.IndexFlat) and len(vectors) >= BATCH_EXACT and depth:
        scores = vectors @ stored.T
        top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        return list(np.take_along_axis(top, order, axis=1))
    _, found = index.search(vectors, depth)
    return [rows[rows >= 0] for rows in found]


@dataclass(frozen=True)
class BuiltParts:
    """What a build computed: one vector and one lexical row per answerable passage, and duplicate groups."""

    vectors: np.ndarray
    hashes: np.ndarray  # sha256 digest (32 bytes) of each row's indexed text, so a rebuild can reuse vectors
    lexical: Lexical
    duplicates: list[list[int]]
    embedded: int  # how many vectors this build computed; the rest came from the previous build
    index_kind: str
    sentences: SentenceTable
    sentence_hashes: np.ndarray
    texts: list[str]  # what was embedded and BM25-indexed for each row
    contexts: np.ndarray  # each row's vector in its context
    context_hashes: np.ndarray
    tokens: TokenTable | None = None  # each row's token vectors, when kept (store/tokens.py)

    @property
    def centroid(self) -> np.ndarray:
        """The mean of the passage vectors (zero for none)."""
        return self.vectors.mean(axis=0) if len(self.vectors) else np.zeros(self.vectors.shape[1], np.float32)


def write_index(corpus: PreparedCorpus, parts: BuiltParts, model: ModelIdentity, index_dir: Path,
                sources_path: Path, build_seconds: float) -> IndexManifest:
    """Write a new build beside the live one and switch to it, one writer at a time. The build that was live
    stays until the next switch, so a reader that started on it finishes on it; older ones are removed."""
    index_dir = Path(index_dir)
    try:
        ensure_index_dir(index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        with writer_lock(index_dir):
            previous = live_build(index_dir)
            manifest = add_build(index_dir, corpus, parts, model, sources_path, build_seconds)
            remove_old_builds(index_dir, keep={live_build(index_dir), previous})
    except OSError as exc:
        raise unwritable(index_dir, exc) from None
    return manifest


def add_build(index_dir: Path, corpus: PreparedCorpus, parts: BuiltParts, model: ModelIdentity,
              sources_path: Path, build_seconds: float) -> IndexManifest:
    """Write a build into a staging folder, name it and make it live; on any failure remove it unless live."""
    builds = index_dir / BUILDS
    builds.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".building-", dir=builds))
    try:
        manifest = write_build(folder, corpus, parts, model, sources_path, build_seconds)
        final = builds / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        folder.rename(final)
        folder = final  # what to remove should a later step fail
        switch_current(index_dir, final)
    except BaseException:
        if live_build(index_dir) != folder:  # the switch may have happened before a later step failed
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return manifest


def unwritable(index_dir: Path, error: OSError) -> IndexProblem:
    """A failed write as one line that says what would let the next build through."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        remedy = "free disk space"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        remedy = "check its permissions"
    else:
        remedy = "check the folder and its disk"
    return IndexProblem(f"cannot write the index at {index_dir} ({error.strerror or error}); {remedy} and build again",
                        public=f"the index could not be written ({error.strerror or 'an error'}); tell whoever runs "
                        "the bot")


def write_build(folder: Path, corpus: PreparedCorpus, parts: BuiltParts, model: ModelIdentity,
                sources_path: Path, build_seconds: float) -> IndexManifest:
    vectors = parts.vectors
    # Serialised here rather than by faiss.write_index, whose write errors are RuntimeErrors without an errno.
    faiss.serialize_index(build_ann(vectors, parts.index_kind)).tofile(folder / VECTORS)
    np.save(folder / EMBEDDINGS, vectors)
    np.save(folder / HASHES, parts.hashes)
    np.save(folder / CONTEXT_VECTORS, parts.contexts)
    np.save(folder / CONTEXT_HASHES, parts.context_hashes)
    np.save(folder / CENTROID, parts.centroid)
    parts.lexical.save(folder / LEXICAL)
    parts.sentences.save(folder)
    if parts.tokens is not None:
        parts.tokens.save(folder)
    np.save(folder / SENTENCE_HASHES, parts.sentence_hashes)
    faiss.serialize_index(build_ann(parts.sentences.vectors, parts.index_kind)).tofile(folder / SENTENCE_ANN)
    (folder / DUPLICATES).write_text(json.dumps(parts.duplicates), encoding="utf-8")
    with (folder / PASSAGES).open("w", encoding="utf-8") as out:
        for passage in corpus.passages:
            out.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
    sources = [s.to_dict() for s in corpus.sources.values()]
    (folder / SOURCES).write_text(json.dumps(sources, ensure_ascii=False, indent=1), encoding="utf-8")
    manifest = new_manifest(corpus, parts, model, sources_path, build_seconds,
                            {name: sha256_file(folder / name) for name in data_files(folder)})
    (folder / MANIFEST).write_text(json.dumps(asdict(manifest), indent=1), encoding="utf-8")
    for name in (*manifest.checksums, MANIFEST):
        fsync(folder / name)
    return manifest


def new_manifest(corpus: PreparedCorpus, parts: BuiltParts, model: ModelIdentity, sources_path: Path,
                 build_seconds: float, checksums: dict[str, str]) -> IndexManifest:
    """What a build records of itself, whichever store holds it (Milvus keeps no files: no checksums)."""
    return IndexManifest(
        format_version=FORMAT_VERSION,
        model_name=model.name,
        model_sha256=model.sha256,
        model_backend=model.backend,
        dimension=int(parts.vectors.shape[1]),
        corpus_fingerprint=corpus.fingerprint,
        sources_path=str(Path(sources_path).resolve()),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(build_seconds, 2),
        embedded=parts.embedded,
        sources=len(corpus.sources),
        passages=len(corpus.passages),
        vectors=len(parts.vectors),
        checksums=checksums,
        skipped=list(corpus.skipped),
    )


def data_files(folder: Path) -> list[str]:
    """Every file of a build but its manifest, as paths relative to the build."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def ensure_index_dir(index_dir: Path) -> None:
    """Refuse to write into a folder that holds anything but our own builds, so no user file is touched."""
    if not index_dir.exists():
        return
    if not index_dir.is_dir():
        raise IndexProblem(f"{index_dir} is a file, not an index folder; choose another index path")
    foreign = [p.name for p in index_dir.iterdir() if p.name not in (CURRENT, BUILDS, f"{CURRENT}.next", LOCK, SERVERS)]
    if foreign:
        raise IndexProblem(
            f"{index_dir} holds other files ({foreign[0]}, …) and is not an index folder; "
            "choose another index path or empty it yourself"
        )


def switch_current(index_dir: Path, build: Path) -> None:
    link = index_dir / f"{CURRENT}.next"
    link.unlink(missing_ok=True)
    link.symlink_to(build.relative_to(index_dir))
    os.replace(link, index_dir / CURRENT)
    fsync(index_dir)


def remove_old_builds(index_dir: Path, keep: set[Path | None]) -> None:
    """Remove every build but those in `keep`, and what a crashed writer left staged; call with the lock held."""
    for build in (index_dir / BUILDS).iterdir():
        if build.name not in {k.name for k in keep if k}:
            shutil.rmtree(build, ignore_errors=True)


def live_build(index_dir: Path) -> Path | None:
    """The build folder `current` points to at this moment, or None when there is no index yet."""
    try:
        return index_dir / os.readlink(index_dir / CURRENT)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise IndexCorrupt(f"{index_dir / CURRENT} is not a link to a build ({exc.strerror}); "
                           "remove it and build again") from None


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_manifest(index_dir: Path) -> tuple[Path, IndexManifest]:
    """The live build's folder and manifest; IndexMissing or IndexCorrupt when there is none to trust."""
    index_dir = Path(index_dir)
    return read_live(index_dir, lambda build: (build, build_manifest(index_dir, build)))


def open_index(index_dir: Path | str) -> StoredIndex:
    """Load the live build after checking every file against the checksums its manifest recorded."""
    index_dir = Path(index_dir)
    return read_live(index_dir, lambda build: load_build(index_dir, build))


def read_live(index_dir: Path, read: Callable[[Path], T]) -> T:
    """`read` the live build, all from the one folder `current` named when it began, so a rebuild switching
    meanwhile is never seen half. Should that folder go mid-read (two rebuilds during one read, as the
    previous build is kept), the read is done once more from the new live build instead of reporting damage."""
    build = existing_build(index_dir)
    try:
        return read(build)
    except IndexCorrupt:
        if live_build(index_dir) == build:  # damaged where it stands, not swapped out
            raise
    return read(existing_build(index_dir))


def existing_build(index_dir: Path) -> Path:
    build = live_build(index_dir)
    if build is None:
        ensure_index_dir(index_dir)  # a folder of other files (`--index seeds`) is refused now, not after embedding
        raise IndexMissing(f"no index at {index_dir}; build it with `python -m retrieval build`")
    return build


def build_manifest(index_dir: Path, build: Path) -> IndexManifest:
    """The manifest of one build, checked field by field: IndexStale or IndexCorrupt when it cannot be trusted."""
    try:
        data = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"the index manifest in {index_dir} cannot be read ({exc}); rebuild with `build`") from None
    return manifest_from(data, f"the index at {index_dir}")


def manifest_from(data: object, where: str) -> IndexManifest:
    """A manifest read back from JSON (a file, or a Milvus record), checked field by field; `where` names the
    index in messages ("the index at index/")."""
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        version = data.get("format_version") if isinstance(data, dict) else None
        raise IndexStale(
            f"{where} has format version {version}, this code reads {FORMAT_VERSION}; "
            "rebuild it with `python -m retrieval build`"
        )
    try:
        manifest = IndexManifest(**data)
    except TypeError as exc:
        raise IndexCorrupt(f"the manifest of {where} is incomplete ({exc}); rebuild with `build`") from None
    for spec in fields(IndexManifest):
        value = getattr(manifest, spec.name)
        if not JSON_CHECKS[spec.type](value):
            raise IndexCorrupt(f"the manifest of {where} has {spec.name} = {json.dumps(value)[:40]}, "
                               f"not {spec.type}; rebuild with `python -m retrieval build`")
    return manifest


def load_build(index_dir: Path, build: Path) -> StoredIndex:
    manifest = build_manifest(index_dir, build)
    for name, checksum in manifest.checksums.items():
        file = build / name
        if file_sha256(file) != checksum:
            raise IndexCorrupt(f"{file} is missing or damaged (checksum differs); rebuild with `retrieval build`")
    if VECTORS not in manifest.checksums:
        raise IndexCorrupt(f"the index manifest in {index_dir} lists no vectors; rebuild with `retrieval build`")
    try:
        vectors = faiss.read_index(str(build / VECTORS))
        sentence_search = faiss.read_index(str(build / SENTENCE_ANN))
        tune(vectors)
        tune(sentence_search)
        sentences = SentenceTable.load(build)
        tokens = TokenTable.load(build)
        embeddings = np.load(build / EMBEDDINGS, mmap_mode="r")
        contexts = np.load(build / CONTEXT_VECTORS, mmap_mode="r")
        centroid = np.load(build / CENTROID)
        lexical = Lexical.load(build / LEXICAL)
        groups = json.loads((build / DUPLICATES).read_text(encoding="utf-8"))
        passages = [Passage.from_dict(json.loads(line)) for line in (build / PASSAGES).open(encoding="utf-8")]
        sources = {s["id"]: Source(**s) for s in json.loads((build / SOURCES).read_text(encoding="utf-8"))}
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"the index at {index_dir} cannot be read ({exc}); rebuild with `build`") from None
    rows = [i for i, p in enumerate(passages) if p.answerable]
    if (vectors.ntotal != len(rows) or vectors.d != manifest.dimension or embeddings.shape != (len(rows), vectors.d)
            or contexts.shape != embeddings.shape or centroid.shape != (vectors.d,)):
        raise IndexCorrupt(f"the index at {index_dir} has {vectors.ntotal} vectors for {len(rows)} passages; rebuild")
    if len(sentences.offsets) != len(rows) + 1 or sentence_search.ntotal != len(sentences.spans):
        raise IndexCorrupt(f"the index at {index_dir} has sentences that do not match its passages; rebuild")
    if tokens is not None and (tokens.count != len(rows) or len(tokens.vectors) != tokens.offsets[-1]
                               or (tokens.sentences is not None and len(tokens.sentences) != len(tokens.vectors))):
        raise IndexCorrupt(f"the index at {index_dir} has token vectors that do not match its passages; rebuild")
    duplicates = {row: group for group in groups for row in group}
    by_source: dict[str, list[Passage]] = {source_id: [] for source_id in sources}
    for passage in passages:
        by_source[passage.source_id].append(passage)
    return StoredIndex(index_dir, manifest, vectors, embeddings, lexical, passages, rows, sources, duplicates,
                       sentences, sentence_search, sentences.rows(), by_source, contexts, centroid, tokens,
                       dict(Counter(passages[row].source_id for row in rows)))


def file_sha256(path: Path) -> str | None:
    """The file's sha256, or None when it cannot be read (gone, a folder, unreadable)."""
    try:
        return sha256_file(path)
    except OSError:
        return None


def check_fresh(manifest: IndexManifest, model: ModelIdentity, fingerprint: str | None, where: object,
                sources: Path | None = None) -> None:
    """Raise IndexStale, naming what differs, when the index at `where` (a folder, a place in Milvus) no longer
    matches the model or the sources (the `fingerprint` of the corpus read from `sources`: by default the folder it
    was built from; None when they are gone)."""
    if not model.same_vectors(manifest.model_sha256, manifest.model_backend):
        raise IndexStale(
            f"the index at {where} was built with model {manifest.model_name} ({manifest.model_sha256[:12]}…, "
            f"{manifest.model_backend}), not the configured {model.name} ({model.sha256[:12]}…, {model.backend}); "
            "rebuild with `python -m retrieval build`"
        )
    if fingerprint is not None and manifest.corpus_fingerprint != fingerprint:
        built_from = Path(manifest.sources_path)
        if sources is None or Path(sources).resolve() == built_from:
            raise IndexStale(  # the folder named: `build` alone reads the config's sources, maybe not these
                f"the sources in {built_from} changed since the index at {where} was built "
                f"({manifest.built_at}); rebuild with `python -m retrieval build {built_from}`, or `search --rebuild`"
            )
        raise IndexStale(
            f"the index at {where} was built from {built_from}, not from {sources}; rebuild it from {sources} with "
            f"`python -m retrieval build {sources}`, or `search --rebuild`"
        )
