"""How many connections the service may hold: the process's file limit (RLIMIT_NOFILE) and the descriptors open at
start in; the connection cap and the accept backlog out, chosen so that accepting never meets EMFILE.

Why the backlog counts: asyncio accepts up to `backlog` connections in one turn of the loop before the protocol
sees any of them (uvicorn's default is 2048, past the 1,024 files most systems give a process), and a connection
shed in one turn is closed in the next. So at the peak the process holds its cap, one turn's accepted connections
and one turn's shed ones: cap + 2 x backlog, beside what was open at start and what opens later."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import RetrievalError

# Descriptors kept for what opens after start: the reader worker's socket pair, Milvus's gRPC channels, the
# feedback database, log files rotated, /proc reads for the metrics; a few each, 64 with room to spare.
HEADROOM = 64
BACKLOG = 128  # the accept backlog at most; a quarter of the room left when the limit is low
MIN_CONNECTIONS = 8  # fewer and the service could not answer its own health checks under load


@dataclass(frozen=True)
class ConnectionBudget:
    """The connection cap and accept backlog, and the numbers they came from (logged at start)."""

    file_limit: int  # RLIMIT_NOFILE's soft limit
    open_at_start: int  # descriptors open when the service starts (the index's files, the interpreter's)
    backlog: int
    max_connections: int

    def __str__(self) -> str:
        return (f"at most {self.max_connections} connections (file limit {self.file_limit}, {self.open_at_start} "
                f"open at start, {HEADROOM} kept for later files, accept backlog {self.backlog})")


def connection_budget(configured: int) -> ConnectionBudget:
    """`configured` (max_connections), lowered to what the file limit leaves; RetrievalError when it leaves too
    few to serve at all, saying how to raise it."""
    limit, opened = file_limit(), open_descriptors()
    room = limit - opened - HEADROOM
    backlog = max(1, min(BACKLOG, room // 4))
    cap = min(configured, room - 2 * backlog)
    if cap < MIN_CONNECTIONS:
        raise RetrievalError(f"this process may open {limit} files (`ulimit -n`) and {opened} are open already: too "
                             f"few for the service's connections; raise the limit (`ulimit -n 4096`, or LimitNOFILE= "
                             "in a systemd unit) and start it again")
    return ConnectionBudget(limit, opened, backlog, cap)


def file_limit() -> int:
    """RLIMIT_NOFILE's soft limit; where there is none (or no such limit), a number no cap reaches."""
    try:
        import resource
    except ImportError:
        return 1 << 30
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 1 << 30 if soft == resource.RLIM_INFINITY else soft


def open_descriptors() -> int:
    """How many descriptors this process has open now (Linux and macOS list them; elsewhere 0)."""
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(listing)) - 1  # less the one listing them
        except OSError:
            continue
    return 0
