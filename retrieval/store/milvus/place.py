"""Where an index lives in Milvus (a server's URL or a Milvus Lite file, and the alias naming its live
build): connecting, finding builds, and what the loader asks of a place (build, open, remove)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException

from ...encode.embed import TextEncoder
from ...errors import IndexCorrupt, IndexMissing, IndexProblem
from ...records import PreparedCorpus
from ..index import IndexManifest
from .build import build_milvus
from .common import KINDS, RECORDS, message, milvus_errors, named, read_manifest
from .search import MilvusIndex, open_milvus
from .write import drop_build


class StartFailure(logging.Filter):
    """Milvus Lite logs a traceback when it cannot open its file, before pymilvus raises: connect() says
    the same in one line that says what to do, so the traceback is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to start MilvusLite server")


logging.getLogger("milvus_lite.server_manager").addFilter(StartFailure())


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

    def build(self, corpus: PreparedCorpus, encoder: TextEncoder, sources_path: Path, progress: bool = True,
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
