"""The service within its file limit: the connection cap and accept backlog are read from RLIMIT_NOFILE at start,
and a service started with a low limit (`python -m retrieval serve` as it runs, in a process of its own) keeps
answering /health while clients hold more half-sent requests than it may open files, with a short log."""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, RetrievalError, Retriever
from retrieval.benchmarks.milvus_lite import free_port
from retrieval.service import descriptors
from retrieval.service.descriptors import connection_budget

from ...conftest import PROJECT
from .conftest import HALF_SENT

FILE_LIMIT = 256  # the served process's RLIMIT_NOFILE: a quarter of the common 1,024, so that the test is quick
HELD = 3 * FILE_LIMIT  # half-sent requests held open at once, more than the process may open files

SERVE = """
import sys
from pathlib import Path
from retrieval import RetrievalConfig, open_retriever
from retrieval.cli.cli import show_library_log
from retrieval.service.app import serve
from retrieval.settings import ServeSettings
from tests.encoders import WordHashEncoder
show_library_log()
config = RetrievalConfig(sources=Path(sys.argv[1]), index=Path(sys.argv[2]), auto_build="never")
serve(open_retriever(config, progress=False, encoder=WordHashEncoder()),
      ServeSettings(host="127.0.0.1", port=int(sys.argv[3]), request_timeout_seconds=60))
"""


def test_the_cap_and_backlog_leave_room_below_the_file_limit(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(descriptors, "open_descriptors", lambda: 40)
    monkeypatch.setattr(descriptors, "file_limit", lambda: 1024)  # most systems' default
    budget = connection_budget(512)
    assert (budget.max_connections, budget.backlog) == (512, 128)
    monkeypatch.setattr(descriptors, "file_limit", lambda: 256)
    budget = connection_budget(512)
    assert budget.backlog == (256 - 40 - 64) // 4 == 38
    assert budget.max_connections == 256 - 40 - 64 - 2 * 38 == 76
    monkeypatch.setattr(descriptors, "file_limit", lambda: 110)
    with pytest.raises(RetrievalError, match=r"may open 110 files \(`ulimit -n`\) and 40 are open already: too few "
                                             r"for the service's connections; raise the limit"):
        connection_budget(512)


def hold_half_sent(port: int, count: int, within: float = 10.0) -> list[socket.socket]:
    """`count` connections that each send a request's first line and headers but never the blank line that ends
    them; connected without waiting on each (a full accept queue holds a connect back for a second or more)."""
    selector = selectors.DefaultSelector()
    opened = []
    for _ in range(count):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        selector.register(client, selectors.EVENT_WRITE)
        opened.append(client)
    deadline = time.monotonic() + within
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.1):
            selector.unregister(key.fileobj)
            with contextlib.suppress(OSError):  # refused or already dropped: shed, as the excess should be
                key.fileobj.send(HALF_SENT)
    selector.close()
    return opened


def health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_more_half_sent_requests_than_the_file_limit_leave_health_answering_and_the_log_short(
        fast_config: RetrievalConfig, fast_retriever: Retriever, tmp_path: Path):
    """fast_retriever: the seeds' index, built for the served process to open."""
    ours, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if ours != resource.RLIM_INFINITY and ours < HELD + 256:
        pytest.skip(f"this test holds {HELD} sockets; `ulimit -n` is {ours}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "service.log"

    def low_file_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, hard))

    with log.open("w") as written:
        service = subprocess.Popen([sys.executable, "-c", SERVE, str(fast_config.sources), str(fast_config.index),
                                    str(port)], stdout=written, stderr=subprocess.STDOUT, cwd=PROJECT,
                                   env={**os.environ, "PYTHONPATH": str(PROJECT)},
                                   preexec_fn=low_file_limit)
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while not health(url):
            assert service.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the service never started"
            time.sleep(0.2)
        held = hold_half_sent(port, HELD)
        answered = sum(health(url) for _ in range(10))
        assert answered == 10, log.read_text()[-2000:]
    finally:
        for client in held:
            client.close()
        service.terminate()
        service.wait(10)
    lines = log.read_text().splitlines()
    assert not [line for line in lines if "out of system resource" in line or "Too many open files" in line]
    assert len(lines) < 30, "\n".join(lines[-20:])
    assert any("connections (file limit 256" in line for line in lines)  # the budget, logged at start
