"""A retrieval service on a real uvicorn server on 127.0.0.1, in a thread, for as long as a test needs it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import uvicorn

from retrieval import Retriever
from retrieval.service.app import create_app
from retrieval.store.milvus_lite import free_port


class ServiceThread:
    """One replica: started at once, stopped (its port closed) by `stop`, as a killed replica would be."""

    def __init__(self, retriever: Retriever) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(retriever), host="127.0.0.1", port=port,
                                                    log_level="warning"))
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
def running_service(retriever: Retriever) -> Iterator[str]:
    """The service's base URL while it runs."""
    service = ServiceThread(retriever)
    try:
        yield service.url
    finally:
        service.stop()
