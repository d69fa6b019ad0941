"""Each server's own library beside the shared one: its documents in a folder of its own, its index beside the
shared index (store/places.py: server_place), opened when first needed and closed when idle. Server ids and
documents in; the server's opened index, or a SourceError saying why a change is refused, out."""

from __future__ import annotations

import logging
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .config import RetrievalConfig
from .encode.embed import TextEncoder
from .errors import IndexProblem, RetrievalError, SourceError
from .ingest.adding import Added, add_document, existing_ids, remove_document
from .ingest.corpus import document_files, load_corpus
from .search.retriever import Retriever
from .store.index import IndexManifest
from .store.layered import LayeredIndex
from .store.places import IndexPlace, server_place
from .store.searchable import SearchIndex

LOG = logging.getLogger(__name__)
LEFT_MARK = ".left"  # in a server's folder: when the bot left it (hidden, so no reader takes it for a document)


class NotIndexed(IndexProblem):
    """A change was made (a document saved, or moved aside) but the server's library could not be rebuilt."""


@dataclass(frozen=True)
class LibraryLimits:
    """How much one server may add, how many servers' indexes stay open, and how long a server's library is
    kept after the bot leaves it."""

    documents: int
    megabytes: float
    open: int
    grace_days: float


class Libraries:
    """Every server's own library. Changes run one at a time (the caller's build thread); opening runs on the
    search thread; the table of opened indexes is shared under a lock. A server that never added a document
    costs nothing: which servers hold documents is read once, from their folders, when this starts."""

    def __init__(self, config: RetrievalConfig, folder: Path, limits: LibraryLimits, encoder: TextEncoder) -> None:
        self.config = config
        self.folder = Path(folder)
        self.limits = limits
        self.encoder = encoder
        self.lock = threading.Lock()
        self.opened: OrderedDict[int, SearchIndex] = OrderedDict()  # least recently used first
        # each opened library's retriever, with the shared retriever it was made over (a reload replaces that)
        self.retrievers: dict[int, tuple[Retriever, Retriever]] = {}
        self.holding = {int(f.name) for f in self.folder.iterdir() if f.name.isdigit() and document_files(f)} \
            if self.folder.is_dir() else set()

    def documents_folder(self, server: int) -> Path:
        return self.folder / str(int(server))

    def place(self, server: int) -> IndexPlace:
        return server_place(self.config, server)

    def has_library(self, server: int | None) -> bool:
        return server is not None and server in self.holding

    # -- opening --------------------------------------------------------------------------------------

    def index_of(self, server: int | None) -> SearchIndex | None:
        """The server's own opened index (None when it has no documents), opened (or, when missing or made with
        another model, built) on first use; the least recently used is closed past `limits.open`."""
        if not self.has_library(server):
            return None
        with self.lock:
            if server in self.opened:
                self.opened.move_to_end(server)
                return self.opened[server]
        return self.keep_open(server, self.opened_or_built(server), newer_wins=True)

    def retriever_for(self, server: int | None, shared: Retriever) -> Retriever:
        """What a question in the server searches: the shared library and the server's own as one index, or the
        shared library alone when the server (or a DM, None) has none."""
        try:
            own = self.index_of(server)
        except RetrievalError as error:  # its questions are still answered, from the shared library
            LOG.warning("server %s's library cannot be opened, answering from the shared one: %s", server, error)
            own = None
        if own is None:
            return shared
        with self.lock:
            made = self.retrievers.get(server)
            if made is not None and made[0] is shared and made[1].index.layers[1] is own:
                return made[1]
        retriever = shared.over(LayeredIndex([shared.index, own]))
        with self.lock:
            if self.opened.get(server) is own:
                self.retrievers[server] = (shared, retriever)
        return retriever

    def ready(self, server: int | None, shared: Retriever) -> Retriever | None:
        """retriever_for when it needs no disk (no library, or one already open), else None."""
        if not self.has_library(server):
            return shared
        with self.lock:
            made = self.retrievers.get(server)
            return made[1] if made is not None and made[0] is shared else None

    def opened_or_built(self, server: int) -> SearchIndex:
        place = self.place(server)
        try:
            index = place.open()
            if self.encoder.identity.same_vectors(index.manifest.model_sha256, index.manifest.model_backend):
                return index
            LOG.info("server %s's library was indexed with another model: indexing it again", server)
        except IndexProblem as problem:
            LOG.info("server %s's library: %s; indexing it again", server, problem)
        self.build(server)
        return place.open()

    def keep_open(self, server: int, index: SearchIndex, newer_wins: bool = False) -> SearchIndex:
        """Keep `index` open as the server's; `newer_wins`: unless a rebuild put one there while it opened."""
        with self.lock:
            if newer_wins and server in self.opened:
                return self.opened[server]
            self.opened[server] = index
            self.opened.move_to_end(server)
            self.retrievers.pop(server, None)
            while len(self.opened) > self.limits.open:
                closed, _ = self.opened.popitem(last=False)  # its files close once no search holds it
                self.retrievers.pop(closed, None)
                LOG.debug("closed server %s's library (least recently used)", closed)
        return index

    def forget(self, server: int) -> None:
        with self.lock:
            self.opened.pop(server, None)
            self.retrievers.pop(server, None)

    def open_count(self) -> int:
        with self.lock:
            return len(self.opened)

    # -- changing -------------------------------------------------------------------------------------

    def add(self, server: int, filename: str, data: bytes, max_file_mb: float,
            reserved: frozenset[str]) -> tuple[Added, IndexManifest | None]:
        """Add a document to the server's library (refused past its limits, or under an id `reserved` by the
        shared library) and index it; the vectors of its other documents are reused."""
        folder = self.documents_folder(server)
        self.check_room(folder, len(data))
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SourceError(f"cannot make this server's folder {folder}: {error.strerror}; give the bot a "
                              "writable `server_sources` folder",
                              public=f"the bot could not make this server's folder ({error.strerror}); tell "
                              "whoever runs the bot") from None
        added = add_document(folder, filename, data, max_file_mb, self.config.reading, reserved)
        self.holding.add(server)
        return added, self.rebuilt_after_change(server)

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

    def remove(self, server: int, source_id: str, reserved: frozenset[str]) -> tuple[Path, IndexManifest | None]:
        """Take a document out of the server's library (its file kept in the folder's .removed/) and index
        what is left; the last one removed leaves the server with no library of its own. An id `reserved` by the
        shared library that the server does not hold itself is refused as the shared library's."""
        folder = self.documents_folder(server)
        if source_id in reserved and not (folder.is_dir() and source_id in existing_ids(folder)):
            raise SourceError(f"{source_id!r} is one of the shared sources, which every server reads and only "
                              "the bot's operator changes; a server can remove only the documents it added")
        if not self.has_library(server):
            raise SourceError("this server has added no documents of its own; the shared sources are the "
                              "bot operator's")
        moved = remove_document(self.documents_folder(server), source_id, keep_one=False)
        return moved, self.rebuilt_after_change(server)

    def rebuilt_after_change(self, server: int) -> IndexManifest | None:
        try:
            return self.rebuild(server)
        except RetrievalError as error:
            raise NotIndexed(str(error), public=error.public) from None

    def rebuild(self, server: int) -> IndexManifest | None:
        """Index the server's documents again (only what changed is embedded) and use that index from now on;
        its manifest, or None when the library now holds nothing."""
        manifest = self.build(server)
        if manifest is None:
            self.forget(server)
        else:
            self.keep_open(server, self.place(server).open())
        return manifest

    def build(self, server: int) -> IndexManifest | None:
        folder = self.documents_folder(server)
        if not (folder.is_dir() and document_files(folder)):
            self.holding.discard(server)
            self.place(server).remove()
            return None
        corpus = load_corpus(folder, self.config.max_file_mb)
        return self.place(server).build(corpus, self.encoder, folder, progress=False,
                                        index_type=self.config.index_type)

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
            self.place(int(server)).remove()
            shutil.rmtree(mark.parent)
            removed.append(int(server))
            LOG.info("removed server %s's library: the bot left it more than %g days ago", server,
                     self.limits.grace_days)
        return removed


def left_at(mark: Path) -> datetime:
    """When the bot left, as the mark says; a mark that cannot be read counts from its file's time."""
    try:
        return datetime.fromisoformat(mark.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return datetime.fromtimestamp(mark.stat().st_mtime, UTC)
