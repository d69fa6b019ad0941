"""Where an index lives, as the one object the loader asks: its manifest, a build into it, the opened index.
A folder of FAISS files (the default), or Milvus (store/milvus/, imported only when configured)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import RetrievalConfig
from ..encode.embed import TextEncoder
from ..records import PreparedCorpus
from .build import build_index
from .index import CURRENT, DOCUMENTS, SERVERS, IndexManifest, open_index, read_manifest
from .searchable import SearchIndex


class IndexPlace(Protocol):
    """An index's home; str() names it in messages ("the index at <str>")."""

    def manifest(self) -> IndexManifest:
        """The live build's manifest: IndexMissing, IndexStale or IndexCorrupt when there is none to trust."""

    def has_build(self) -> bool:
        """Whether a build is live, to lend its vectors to the next."""

    def build(self, corpus: PreparedCorpus, encoder: TextEncoder, sources_path: Path, progress: bool = True,
              reuse: bool = True, index_type: str = "auto", vectors_from: Path | None = None) -> IndexManifest:
        """Index the prepared corpus (ingest/prepared.py) and switch to it once complete. With `reuse`, the vectors
        of texts the live build (or else the FAISS index at `vectors_from`) embedded with this model are not
        embedded again."""

    def open(self) -> SearchIndex:
        """The live build, ready to search."""

    def remove(self) -> None:
        """Remove every build (a server's library that was emptied or expired)."""


@dataclass(frozen=True)
class FaissFolder:
    """FAISS and BM25 files in a folder of builds (store/index.py), the passages' token vectors among them while
    they take at most `token_budget` bytes."""

    path: Path
    token_budget: int = 0

    def __str__(self) -> str:
        return str(self.path)

    def manifest(self) -> IndexManifest:
        return read_manifest(self.path)[1]

    def has_build(self) -> bool:
        return (self.path / CURRENT).exists()

    def build(self, corpus: PreparedCorpus, encoder: TextEncoder, sources_path: Path, progress: bool = True,
              reuse: bool = True, index_type: str = "auto", vectors_from: Path | None = None) -> IndexManifest:
        return build_index(corpus, encoder, self.path, sources_path, progress=progress, reuse=reuse,
                           index_kind=index_type, vectors_from=None if self.has_build() else vectors_from,
                           token_budget=self.token_budget)

    def open(self) -> SearchIndex:
        return open_index(self.path)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def place_of(config: RetrievalConfig, index: Path | None = None) -> IndexPlace:
    """The configured index's place; an `index` folder given (the command line's --index) is always FAISS."""
    if index is None and config.store == "milvus":
        from .milvus import MilvusPlace  # pymilvus loads in about a second: only for those who use it

        return MilvusPlace(config.milvus_uri, config.milvus_collection)
    return FaissFolder(Path(index or config.index), token_budget(config))


def server_place(config: RetrievalConfig, server: int) -> IndexPlace:
    """Where one server's own library is indexed: a FAISS folder servers/<id>/ in the shared index's folder, or
    on Milvus its own collections (and alias) named after the shared ones. A collection per server rather than a
    partition key: Milvus computes BM25's statistics over a whole collection, so a partition key would let every
    server's documents weigh in other servers' word statistics, and each server's build is switched in whole by
    its own alias, as the shared index's is."""
    if config.store == "milvus":
        from .milvus import MilvusPlace

        return MilvusPlace(config.milvus_uri, f"{config.milvus_collection}_server_{server}")
    return FaissFolder(Path(config.index) / SERVERS / str(server), token_budget(config))


def document_place(config: RetrievalConfig, server: int, key: str) -> IndexPlace:
    """Where one document of a server's library is indexed (`key`: a name made from its file's, letters and
    digits), so that adding or removing a document indexes, writes or drops that document alone: a FAISS folder
    servers/<id>/documents/<key>/, or on Milvus collections of its own. A server's library is searched as the
    layers of its documents (store/layered.py), whose BM25 takes word statistics from every layer together."""
    if config.store == "milvus":
        from .milvus import MilvusPlace

        return MilvusPlace(config.milvus_uri, f"{config.milvus_collection}_server_{server}_{key}")
    return FaissFolder(Path(config.index) / SERVERS / str(server) / DOCUMENTS / key, token_budget(config))


def token_budget(config: RetrievalConfig) -> int:
    """The bytes of token vectors a FAISS build keeps, from `token_vectors_mb`."""
    return int(config.token_vectors_mb * 2**20)
