"""A Milvus Lite server on loopback, in a process of its own, for benchmarks and tests where several clients
share one Milvus (as replicas share a Milvus server in production). Stopped when the `with` block ends."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from ..errors import IndexProblem

START_SECONDS = 30.0  # it listens within about a second here; this is the most a slow CI machine is given


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MilvusServer:
    """`python -m milvus_lite server` on 127.0.0.1 (never the default 0.0.0.0) with its data in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> MilvusServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
             "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_SECONDS
        while not self.listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise IndexProblem(f"the Milvus Lite server on {self.data_dir} did not start "
                                   f"({self.process.stderr.read()[-300:].decode(errors='replace').strip()})")
            time.sleep(0.1)
        return self

    def listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(self, *exc: object) -> None:
        self.stop()
