"""Each server's own library beside the shared one: its documents in a folder of its own, each document indexed
apart (store/places.py: document_place), so adding or removing one embeds and writes that one alone; the server's
library is the layers of its documents, opened when first needed and closed when idle. Every change and every
rebuild runs on a bounded pool with a queue per server (fair_pool.py), so one server's heavy work never holds up
another's. Server ids and documents in; the server's opened library, or a SourceError saying why a change is
refused, out."""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .config import RetrievalConfig
from .encode.embed import TextEncoder
from .errors import IndexProblem, RetrievalError, SourceError
from .fair_pool import FairPool
from .ingest.adding import Added, add_document, existing_ids, remove_document, set_aside
from .ingest.corpus import Corpus, Skipped, document_files, load_document, reason
from .ingest.prepared import prepare
from .search.retriever import Retriever
from .store.index import CURRENT, DOCUMENTS, SERVERS, IndexManifest
from .store.layered import LayeredIndex
from .store.places import IndexPlace, document_place, server_place
from .store.searchable import SearchIndex

LOG = logging.getLogger(__name__)
LEFT_MARK = ".left"  # in a server's folder: when the bot left it (hidden, so no reader takes it for a document)
# Beside a document being added, until it is indexed: a process killed in between leaves it, and the next start
# indexes the document (or moves it aside) and says so. Hidden, so no reader takes it for a document.
INDEXING_MARK = ".indexing-"
# Threads for servers' library work. Each runs one reader process (up to [retrieval.reading] memory_mb) and the
# encoder, so each adds up to a reading's memory; two let one server's small /add-source pass another's heavy one
# while bounding that to two readings at once. A server's jobs run one at a time whatever the pool's size.
LIBRARY_WORKERS = 2
KEY_CHARS = 16  # hex digits of a document's key: 64 bits of its file name's hash, no clash among 20 files


class NotIndexed(IndexProblem):
    """A change was made (a document saved, or moved aside) but the server's library could not be rebuilt."""


@dataclass(frozen=True)
class LibraryLimits:
    """How much one server may add, how many servers' indexes stay open, how long a server's library is kept
    after the bot leaves it, and how many threads do servers' library work."""

    documents: int
    megabytes: float
    open: int
    grace_days: float
    workers: int = LIBRARY_WORKERS


@dataclass(frozen=True)
class Built:
    """A server's library after a change: its documents and passages, how many passages the change embedded (the
    rest reused or untouched), how long it took, and the files it could not read (each {"file", "reason"})."""

    sources: int
    vectors: int
    embedded: int
    build_seconds: float
    skipped: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Library:
    """A server's opened library: each document's index by its key, and all of them as one."""

    documents: dict[str, SearchIndex]
    index: LayeredIndex


class Libraries:
    """Every server's own library. Changes and rebuilds run on `pool`, one at a time per server; opening runs on
    the search thread, which never builds: a library it cannot open is rebuilt on the pool meanwhile, and its
    questions answered from the shared library. The table of opened libraries is shared under a lock. A server
    that never added a document costs nothing: which servers hold documents is read once, from their folders,
    when this starts."""

    def __init__(self, config: RetrievalConfig, folder: Path, limits: LibraryLimits, encoder: TextEncoder) -> None:
        self.config = config
        self.folder = Path(folder)
        self.limits = limits
        self.encoder = encoder
        self.lock = threading.Lock()
        self.opened: OrderedDict[int, Library] = OrderedDict()  # least recently used first
        # each opened library's retriever, with the shared retriever and the library it was made over
        self.retrievers: dict[int, tuple[Retriever, Library, Retriever]] = {}
        self.changes: dict[int, int] = {}  # each server's count of changes, so a stale opening is not kept
        self.repairing: set[int] = set()  # servers whose library is being rebuilt in the background
        # documents that could not be read, with their file's time then: left out until the file changes
        self.unreadable: dict[tuple[int, str], float] = {}
        self.holding = {int(f.name) for f in self.folder.iterdir() if f.name.isdigit() and document_files(f)} \
            if self.folder.is_dir() else set()
        self.pool = FairPool(limits.workers, "library")

    def submit(self, server: int | str, work: Callable, *args) -> Future:
        """Run `work(*args)` on the library pool, behind the server's own earlier work."""
        return self.pool.submit(server, work, *args)

    def close(self) -> None:
        """Cancel the work not started; let the running finish (a document half indexed is indexed)."""
        self.pool.shutdown(wait=True, cancel_queued=True)

    def documents_folder(self, server: int) -> Path:
        return self.folder / str(int(server))

    def place(self, server: int, key: str) -> IndexPlace:
        return document_place(self.config, server, key)

    def has_library(self, server: int | None) -> bool:
        return server is not None and server in self.holding

    def has_index(self, server: int) -> bool:
        """Whether every document of the server has a live index."""
        files = self.files(server)
        return bool(files) and all(self.place(server, key).has_build() for key in files)

    def repairs(self, server: int | None) -> bool:
        """Whether the server's library is being rebuilt in the background (its questions skip it meanwhile)."""
        with self.lock:
            return server in self.repairing

    def files(self, server: int) -> dict[str, Path]:
        """The server's documents by key."""
        folder = self.documents_folder(server)
        return {document_key(folder, f): f for f in document_files(folder)} if folder.is_dir() else {}

    # -- opening --------------------------------------------------------------------------------------

    def index_of(self, server: int | None) -> SearchIndex | None:
        """The server's own opened library (None when it has no documents), opened on first use; the least
        recently used is closed past `limits.open`. A document whose index is missing, damaged or made with
        another model is rebuilt on the pool (IndexProblem meanwhile); nothing is built here."""
        library = self.library_of(server)
        return None if library is None else library.index

    def library_of(self, server: int | None) -> Library | None:
        if not self.has_library(server):
            return None
        with self.lock:
            if server in self.opened:
                self.opened.move_to_end(server)
                return self.opened[server]
            change = self.changes.get(server, 0)
            if server in self.repairing:  # not opened again (every file's checksum read) until that is done
                raise IndexProblem("it is being rebuilt")
        try:
            library = self.opened_library(server, {})
        except IndexProblem:
            self.repair(server)
            raise
        if library is None:
            return None
        return self.keep_open(server, library, change)

    def retriever_for(self, server: int | None, shared: Retriever) -> Retriever:
        """What a question in the server searches: the shared library and the server's own as one index, or the
        shared library alone when the server (or a DM, None) has none, or its library cannot be opened now."""
        try:
            own = self.library_of(server)
        except RetrievalError as error:  # its questions are still answered, from the shared library
            LOG.warning("server %s's library cannot be opened, answering from the shared one: %s", server, error)
            own = None
        if own is None:
            return shared
        with self.lock:
            made = self.retrievers.get(server)
            if made is not None and made[0] is shared and made[1] is own:
                return made[2]
        retriever = shared.over(LayeredIndex([shared.index, *own.index.layers]))
        with self.lock:
            if self.opened.get(server) is own:
                self.retrievers[server] = (shared, own, retriever)
        return retriever

    def ready(self, server: int | None, shared: Retriever) -> Retriever | None:
        """retriever_for when it needs no disk (no library, or one already open), else None."""
        if not self.has_library(server):
            return shared
        with self.lock:
            made = self.retrievers.get(server)
            return made[2] if made is not None and made[0] is shared else None

    def opened_library(self, server: int, kept: dict[str, SearchIndex],
                       build: Callable[[str, Path], SearchIndex] | None = None) -> Library | None:
        """The server's documents opened (those in `kept` taken from it); one that cannot be opened, or was
        indexed with another model, is given to `build`, else IndexProblem. None when no document is left."""
        documents = {}
        for key, file in self.files(server).items():
            if self.unreadable.get((server, key)) == modified(file):
                continue
            if key in kept:
                documents[key] = kept[key]
                continue
            try:
                documents[key] = self.opened_document(server, key)
            except IndexProblem as problem:
                if build is None:
                    raise
                LOG.info("server %s's document %s: %s; indexing it again", server, file.name, problem)
                documents[key] = build(key, file)
        return Library(documents, LayeredIndex(list(documents.values()))) if documents else None

    def opened_document(self, server: int, key: str) -> SearchIndex:
        index = self.place(server, key).open()
        if not self.encoder.identity.same_vectors(index.manifest.model_sha256, index.manifest.model_backend):
            raise IndexProblem("it was indexed with another model")
        return index

    def keep_open(self, server: int, library: Library | None, change: int | None = None) -> Library | None:
        """Use `library` as the server's from now on (None: it has none); with `change`, only if no change was
        made since that count (an opening that raced a change keeps the change's)."""
        with self.lock:
            if change is not None:
                if self.changes.get(server, 0) != change:
                    return self.opened.get(server, library)
            else:
                self.changes[server] = self.changes.get(server, 0) + 1
            self.retrievers.pop(server, None)
            if library is None:
                self.opened.pop(server, None)
                return None
            self.opened[server] = library
            self.opened.move_to_end(server)
            while len(self.opened) > self.limits.open:
                closed, _ = self.opened.popitem(last=False)  # its files close once no search holds it
                self.retrievers.pop(closed, None)
                LOG.debug("closed server %s's library (least recently used)", closed)
        return library

    def forget(self, server: int) -> None:
        self.keep_open(server, None)

    def open_count(self) -> int:
        with self.lock:
            return len(self.opened)

    # -- rebuilding in the background -----------------------------------------------------------------

    def repair(self, server: int) -> None:
        """Rebuild what of the server's library cannot be opened, on the pool, unless that is under way."""
        with self.lock:
            if server in self.repairing:
                return
            self.repairing.add(server)
        LOG.warning("server %s's library cannot be opened: rebuilding it in the background; its questions are "
                    "answered from the shared library meanwhile", server)
        try:
            self.submit(server, self.repaired, server)
        except RuntimeError:  # the pool is shut down: the bot is stopping, the next start tries again
            with self.lock:
                self.repairing.discard(server)

    def repaired(self, server: int) -> Built | None:
        """The background rebuild: what of the server's library cannot be opened is built again, and logged."""
        try:
            built = self.refresh(server, time.perf_counter())
        except RetrievalError as error:
            LOG.error("server %s's library could not be rebuilt: %s", server, error)
            return None
        finally:
            with self.lock:
                self.repairing.discard(server)
        LOG.info("server %s's library rebuilt: %s", server, built)
        return built

    def recover(self) -> dict[Path, Future]:
        """At start: documents whose /add-source was cut short (the process killed after the file was saved,
        before it was indexed) are indexed on the pool, or moved aside when they cannot be; each is logged.
        The documents found, each with its work on the pool."""
        found = {}
        for server in sorted(self.holding):
            for mark in sorted(self.documents_folder(server).glob(f"{INDEXING_MARK}*")):
                file = mark.with_name(mark.name[len(INDEXING_MARK):])
                if not file.is_file():  # cut short before it was saved: nothing to do
                    mark.unlink(missing_ok=True)
                    continue
                LOG.warning("server %s's document %s was saved but not indexed when the bot stopped: indexing it "
                            "now", server, file.name)
                found[file] = self.submit(server, self.recovered, server, file, mark)
        return found

    def recovered(self, server: int, file: Path, mark: Path) -> None:
        folder = self.documents_folder(server)
        try:
            corpus = load_document(folder, file, self.config.max_file_mb, self.config.reading)
        except SourceError as error:
            aside = set_aside(folder, file)
            mark.unlink(missing_ok=True)
            LOG.warning("server %s's document %s cannot be indexed (%s): moved aside to %s", server, file.name,
                        reason(error, file), aside)
            self.repaired(server)  # the rest of its library, as it is now
            return
        try:
            self.index_document(server, file, corpus, time.perf_counter())
        except RetrievalError as error:  # the store, not the document: the mark stays for the next start
            LOG.error("server %s's document %s is still not indexed: %s", server, file.name, error)
            return
        mark.unlink(missing_ok=True)
        LOG.info("server %s's document %s is indexed and answers now", server, file.name)

    # -- changing (on the pool) -----------------------------------------------------------------------

    def add(self, server: int, filename: str, data: bytes, max_file_mb: float,
            reserved: frozenset[str]) -> tuple[Added, Built]:
        """Add a document to the server's library (refused past its limits, or under an id `reserved` by the
        shared library) and index it alone: the server's other documents are not read, embedded or written."""
        start = time.perf_counter()
        folder = self.documents_folder(server)
        self.check_room(folder, len(data))
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SourceError(f"cannot make this server's folder {folder}: {error.strerror}; give the bot a "
                              "writable `server_sources` folder",
                              public=f"the bot could not make this server's folder ({error.strerror}); tell "
                              "whoever runs the bot") from None
        marks: list[Path] = []

        def saving(target: Path) -> None:
            marks.append(target.with_name(INDEXING_MARK + target.name))
            marks[0].touch()

        try:
            added = add_document(folder, filename, data, max_file_mb, self.config.reading, reserved, saving)
        except BaseException:
            for mark in marks:
                mark.unlink(missing_ok=True)
            raise
        self.holding.add(server)
        try:
            built = self.index_document(server, added.path, added.corpus, start)
        except RetrievalError as error:
            raise NotIndexed(str(error), public=error.public) from None  # the mark stays: the next start indexes it
        for mark in marks:
            mark.unlink(missing_ok=True)
        return added, built

    def index_document(self, server: int, file: Path, corpus: Corpus, start: float) -> Built:
        """Index one document of the server's (read into `corpus`) and use it at once."""
        key = document_key(self.documents_folder(server), file)
        manifest = self.build_document(server, key, file, corpus)
        built = self.refresh(server, start, kept_but=key, embedded=manifest.embedded)
        if built is None:
            raise IndexProblem(f"{file.name} was indexed but is no longer in this server's folder")
        return built

    def build_document(self, server: int, key: str, file: Path, corpus: Corpus) -> IndexManifest:
        """Index one document apart. The vectors its last index holds are reused, or, at its first index, those
        of the whole-library index that servers had before their documents were indexed apart (FAISS)."""
        whole = Path(self.config.index) / SERVERS / str(server)
        return self.place(server, key).build(prepare(corpus, self.config.reading), self.encoder, file,
                                             progress=False, index_type=self.config.index_type,
                                             vectors_from=whole if (whole / CURRENT).exists() else None)

    def check_room(self, folder: Path, size: int) -> None:
        held = document_files(folder) if folder.is_dir() else []
        limits = self.limits
        if len(held) >= limits.documents:
            raise SourceError(f"this server's library holds {len(held)} documents, its limit of "
                              f"{limits.documents}; remove one with /remove-source first")
        total = sum(f.stat().st_size for f in held) + size
        if total > limits.megabytes * 1e6:
            raise SourceError(f"this server's library would hold {total / 1e6:,.3g} MB, over its limit of "
                              f"{limits.megabytes:g} MB; remove a document with /remove-source first")

    def remove(self, server: int, source_id: str, reserved: frozenset[str]) -> tuple[Path, Built | None]:
        """Take a document out of the server's library (its file kept in the folder's .removed/) and drop its
        index; the last one removed leaves the server with no library of its own. An id `reserved` by the shared
        library that the server does not hold itself is refused as the shared library's."""
        start = time.perf_counter()
        folder = self.documents_folder(server)
        if source_id in reserved and not (folder.is_dir() and source_id in existing_ids(folder)):
            raise SourceError(f"{source_id!r} is one of the shared sources, which every server reads and only "
                              "the bot's operator changes; a server can remove only the documents it added")
        if not self.has_library(server):
            raise SourceError("this server has added no documents of its own; the shared sources are the "
                              "bot operator's")
        before = self.files(server)
        moved = remove_document(folder, source_id, keep_one=False)
        try:
            for key in before.keys() - self.files(server).keys():
                self.place(server, key).remove()
            built = self.refresh(server, start)
        except RetrievalError as error:
            raise NotIndexed(str(error), public=error.public) from None
        return moved, built

    def rebuild(self, server: int) -> Built:
        """Index each of the server's documents again (only what changed is embedded) and use them from now on;
        what the library holds. A file that cannot be read is left out; SourceError when none can be."""
        start = time.perf_counter()
        folder = self.documents_folder(server)
        embedded = 0
        skipped: list[Skipped] = []
        documents = {}
        for key, file in self.files(server).items():
            self.unreadable.pop((server, key), None)
            try:
                corpus = load_document(folder, file, self.config.max_file_mb, self.config.reading)
            except SourceError as error:
                self.skip(server, key, file, error, skipped)
                self.place(server, key).remove()
                continue
            embedded += self.build_document(server, key, file, corpus).embedded
            documents[key] = self.opened_document(server, key)
        self.drop_strays(server)
        library = Library(documents, LayeredIndex(list(documents.values()))) if documents else None
        built = self.use(server, library, embedded, start, skipped)
        if built is None:
            left_out = f"; skipped {', '.join(map(str, skipped))}" if skipped else ""
            raise SourceError(f"{self.documents_folder(server)} holds no document that can be read{left_out}",
                              public=f"no document in it can be read{left_out}; add one with /add-source")
        return built

    def refresh(self, server: int, start: float, kept_but: str | None = None, embedded: int = 0) -> Built | None:
        """Open the server's documents again (those already open kept, but `kept_but`), building any that
        cannot be opened, and use them from now on; `embedded`: passages the change embedded before."""
        with self.lock:
            current = self.opened.get(server)
        kept = {k: v for k, v in current.documents.items() if k != kept_but} if current is not None else {}
        folder = self.documents_folder(server)
        skipped: list[Skipped] = []

        def build(key: str, file: Path) -> SearchIndex:
            nonlocal embedded
            corpus = load_document(folder, file, self.config.max_file_mb, self.config.reading)
            embedded += self.build_document(server, key, file, corpus).embedded
            return self.opened_document(server, key)

        def built_or_skipped(key: str, file: Path) -> SearchIndex | None:
            try:
                return build(key, file)
            except SourceError as error:
                self.skip(server, key, file, error, skipped)
                return None

        library = self.opened_library(server, kept, built_or_skipped)
        if library is not None and any(index is None for index in library.documents.values()):
            documents = {k: v for k, v in library.documents.items() if v is not None}
            library = Library(documents, LayeredIndex(list(documents.values()))) if documents else None
        return self.use(server, library, embedded, start, skipped)

    def skip(self, server: int, key: str, file: Path, error: SourceError, skipped: list[Skipped]) -> None:
        """Leave a document that cannot be read out of the server's library until its file changes."""
        self.unreadable[(server, key)] = modified(file)
        skipped.append(Skipped(file.relative_to(self.documents_folder(server)).as_posix(), reason(error, file)))
        LOG.warning("server %s: skipped %s", server, skipped[-1])

    def use(self, server: int, library: Library | None, embedded: int, start: float,
            skipped: list[Skipped]) -> Built | None:
        if library is None and not self.files(server):
            self.holding.discard(server)
            self.remove_indexes(server)
        self.keep_open(server, library)
        if library is None:
            return None
        return Built(len(library.documents), library.index.count, embedded,
                     round(time.perf_counter() - start, 3), [s.to_dict() for s in skipped])

    def drop_strays(self, server: int) -> None:
        """Remove the indexes of documents no longer in the server's folder (a removal cut short)."""
        keys = self.files(server).keys()
        folder = Path(self.config.index) / SERVERS / str(server) / DOCUMENTS
        if self.config.store != "milvus" and folder.is_dir():
            for stray in folder.iterdir():
                if stray.name not in keys:
                    shutil.rmtree(stray, ignore_errors=True)

    def remove_indexes(self, server: int) -> None:
        """Remove every index the server's library has (and the whole-library index of earlier versions)."""
        for key in self.files(server):
            self.place(server, key).remove()
        server_place(self.config, server).remove()

    # -- leaving --------------------------------------------------------------------------------------

    def left(self, server: int, when: datetime) -> None:
        """The bot left the server: its library is removed once the grace period has passed (expire)."""
        folder = self.documents_folder(server)
        if folder.is_dir():
            (folder / LEFT_MARK).write_text(when.isoformat(), encoding="utf-8")

    def rejoined(self, server: int) -> None:
        """The bot is back in the server within the grace period: its library stays."""
        (self.documents_folder(server) / LEFT_MARK).unlink(missing_ok=True)

    def expire(self, now: datetime | None = None) -> list[int]:
        """Remove the library of every server the bot left more than the grace period ago; their ids."""
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(days=self.limits.grace_days)
        removed = []
        for mark in sorted(self.folder.glob(f"*/{LEFT_MARK}")) if self.folder.is_dir() else []:
            server = mark.parent.name
            if not server.isdigit() or left_at(mark) > cutoff:
                continue
            self.forget(int(server))
            self.holding.discard(int(server))
            self.remove_indexes(int(server))
            shutil.rmtree(mark.parent)
            removed.append(int(server))
            LOG.info("removed server %s's library: the bot left it more than %g days ago", server,
                     self.limits.grace_days)
        return removed


def document_key(folder: Path, file: Path) -> str:
    """A document's index's name: letters and digits (Milvus takes no others) made from its file's name."""
    return "d" + hashlib.sha256(file.relative_to(folder).as_posix().encode()).hexdigest()[:KEY_CHARS]


def modified(file: Path) -> float:
    try:
        return file.stat().st_mtime
    except OSError:
        return 0.0


def left_at(mark: Path) -> datetime:
    """When the bot left, as the mark says; a mark that cannot be read counts from its file's time."""
    try:
        return datetime.fromisoformat(mark.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return datetime.fromtimestamp(mark.stat().st_mtime, UTC)
