"""Questions in, one at a time from any thread or event loop; Answers out, computed in small batches by one
worker thread with Retriever.answer_many."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from ..errors import RetrievalError
from ..settings import ServeSettings
from .retriever import Answer, Retriever

LOG = logging.getLogger(__name__)


class BatcherClosed(RetrievalError):
    """A question was submitted after the batcher stopped."""


@dataclass
class Request:
    """One question waiting for its batch: what was asked, when, and where its answer goes."""

    query: str
    k: int
    future: Future[Answer]
    arrived: float = field(default_factory=time.monotonic)


class Batcher:
    """Answers questions submitted from any thread. The worker takes the first waiting question, then what
    else arrives until `max_batch` are waiting or `max_wait_ms` have passed since the first arrived, and
    answers them together. A question that cannot be searched (empty, too long, bad k) fails its own future
    at once and never joins a batch. Use as a context manager, or call close()."""

    def __init__(self, retriever: Retriever, settings: ServeSettings | None = None) -> None:
        self.retriever = retriever
        self.settings = settings or ServeSettings()
        self.waiting: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        self.closed = threading.Event()
        self.worker = threading.Thread(target=self.run, name="retrieval-batcher", daemon=True)
        self.worker.start()

    def __enter__(self) -> Batcher:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def submit(self, question: str, k: int | None = None) -> Future[Answer]:
        """The future answer to one question; await it from asyncio with asyncio.wrap_future."""
        if self.closed.is_set():
            raise BatcherClosed("the search service is shutting down; ask again in a moment")
        future: Future[Answer] = Future()
        try:
            query, k = self.retriever.checked(question, k)
        except RetrievalError as exc:
            future.set_exception(exc)
            return future
        self.waiting.put(Request(query, k, future))
        return future

    def close(self) -> None:
        """Answer what is waiting, then stop the worker."""
        if not self.closed.is_set():
            self.closed.set()
            self.waiting.put(None)
        self.worker.join()

    def run(self) -> None:
        stopping = False
        while not stopping:
            first = self.waiting.get()
            if first is None:
                break
            batch, stopping = self.gather(first)
            self.answer(batch)

    def gather(self, first: Request) -> tuple[list[Request], bool]:
        """The first request and those that join it in time; True when the stop signal came meanwhile."""
        batch = [first]
        deadline = first.arrived + self.settings.max_wait_ms / 1000
        while len(batch) < self.settings.max_batch:
            try:
                # what is already waiting joins at once, even after the deadline: it has waited already
                request = self.waiting.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if request is None:
                return batch, True
            batch.append(request)
        return batch, False

    def answer(self, batch: list[Request]) -> None:
        live = [request for request in batch if request.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            answers = self.retriever.answer_many([r.query for r in live], [r.k for r in live])
        except Exception:
            # every question was checked on submit, so one of them met a bug: ask each alone, so that only
            # its own asker gets the error and the others their answers
            LOG.error("a batch of %d questions failed; answering them one by one", len(live), exc_info=True)
            for request in live:
                self.answer_alone(request)
            return
        for request, answer in zip(live, answers, strict=True):
            request.future.set_result(answer)

    def answer_alone(self, request: Request) -> None:
        try:
            request.future.set_result(self.retriever.answer(request.query, request.k))
        except Exception as exc:
            request.future.set_exception(exc)
