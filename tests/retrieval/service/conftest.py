"""A retrieval service on a real uvicorn server on 127.0.0.1, in a thread, for as long as a test needs it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import uvicorn

from retrieval import Retriever
from retrieval.benchmarks.milvus_lite import free_port
from retrieval.service.app import server_config
from retrieval.settings import ServeSettings

HALF_SENT = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # the blank line that ends the headers never comes


class ServiceThread:
    """One replica: started at once, stopped (its port closed) by `stop`, as a killed replica would be."""

    def __init__(self, retriever: Retriever, token: str | None = None, **limits) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        settings = ServeSettings(host="127.0.0.1", port=port, **limits)
        self.server = uvicorn.Server(server_config(retriever, settings, token, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the service never started"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@contextlib.contextmanager
def running_service(retriever: Retriever, token: str | None = None, **limits) -> Iterator[str]:
    """The service's base URL while it runs, as `python -m retrieval serve` runs it (with `limits`, ServeSettings'
    request_timeout_seconds, max_connections and max_requests changed)."""
    service = ServiceThread(retriever, token, **limits)
    try:
        yield service.url
    finally:
        service.stop()
