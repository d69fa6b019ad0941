"""One writer per index folder: an advisory lock file that also says which process holds it."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import IndexBusy

LOCK = ".lock"
# Seconds a build waits for another to finish writing. The lock is held only while a finished build is
# written and switched in (0.05 s for the seeds; it grows with the corpus), so a holder past this is stuck.
WRITER_WAIT = 300.0
POLL_SECONDS = 0.05  # how often a waiting writer tries again: the most that waiting adds to a build


@contextmanager
def writer_lock(index_dir: Path, wait: float = WRITER_WAIT) -> Iterator[None]:
    """Hold the index folder's writer lock, waiting up to `wait` seconds for another writer to let go.
    The kernel drops the lock when its process ends, however it ends, so no stale lock outlives a crash."""
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while not try_lock(fd):
            if time.monotonic() >= deadline:
                raise IndexBusy(f"the index at {index_dir} is being written by {holder(fd)}; "
                                "wait for that build to finish, or stop it, and build again")
            time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({' '.join([sys.executable, *sys.argv])})\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it: "pid N (command)"."""
    return os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
