"""Swap in a re-read shared index while questions keep being answered from the one in use."""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from retrieval import RetrievalConfig, RetrievalError, Retriever, open_retriever

LOG = logging.getLogger(__name__)


class InUse(Protocol):
    """The retriever in use as the reloader swaps it (the Service's CurrentRetriever), named here so that this
    module needs nothing from service.py, which holds a Reloader."""

    def get(self) -> Retriever: ...

    def swap(self, new: Retriever) -> Retriever: ...


class Reloader:
    """One reload at a time, on its own thread; the retriever in use is swapped whole, so a search already
    running finishes on the old index and every later one uses the new."""

    def __init__(self, current: InUse, config: RetrievalConfig | None) -> None:
        self.current = current
        self.config = config
        self.lock = asyncio.Lock()
        self.builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="index")

    async def reload(self) -> Retriever:
        """Re-read the shared index from disk (rebuilt outside the bot: the operator's, not a server's)."""
        if self.config is None:
            raise RetrievalError("this bot was started without an index configuration, so it cannot reload")
        async with self.lock:
            load = functools.partial(open_retriever, self.config, progress=False,
                                     encoder=self.current.get().encoder)
            fresh = await asyncio.get_running_loop().run_in_executor(self.builder, load)
            self.current.swap(fresh)
        manifest = fresh.index.manifest
        LOG.info("index reloaded: %d passages from %d sources (%d embedded), built %s", manifest.vectors,
                 manifest.sources, manifest.embedded, manifest.built_at)
        return fresh

    async def reload_logged(self) -> None:
        """For SIGHUP: reload, and on failure keep answering from the index in use."""
        try:
            await self.reload()
        except RetrievalError as error:
            LOG.error("reload failed, still answering from the previous index: %s", error)

    def close(self) -> None:
        self.builder.shutdown(wait=True, cancel_futures=True)
