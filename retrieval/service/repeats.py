"""Log records in, fewer out: a warning or error repeated within a minute is held back and counted, and the next
one let through says how many were, so that a flood (a client hammering the service, a resource gone) writes a
line a minute, not a line each time (issue 27: 221,131 lines, 92 MB in 70 s)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0  # one line of each kind a minute at most
KINDS = 256  # kinds of line remembered; past it the one seen longest ago is forgotten (messages that embed a
# changing detail are each a kind of their own, so the memory is capped, not the number of kinds)
SERVICE_LOGGERS = ("", "retrieval", "uvicorn", "uvicorn.error", "uvicorn.access", "asyncio")


@dataclass
class Seen:
    shown_at: float
    held: int = 0


class RepeatFilter(logging.Filter):
    """Lets through the first warning or error of each kind (logger, level, message template, exception type)
    in each WINDOW_SECONDS, and counts the rest; INFO and below pass untouched."""

    def __init__(self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        self.seen: dict[tuple, Seen] = {}
        self.lock = threading.Lock()  # handlers call filters outside their own lock

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        failure = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, record.levelno, str(record.msg), failure)
        now = self.clock()
        with self.lock:
            seen = self.seen.pop(kind, None)  # popped and put back: the dict stays in order of last sight
            if seen is not None and now - seen.shown_at < self.window:
                seen.held += 1
                self.seen[kind] = seen
                return False
            self.seen[kind] = Seen(now)
            if len(self.seen) > KINDS:
                del self.seen[next(iter(self.seen))]
        if seen is not None and seen.held:
            record.msg = f"{record.getMessage()} [{seen.held:,} more like this held back since the last one logged]"
            record.args = ()
        return True


def quiet_repeats(names: tuple[str, ...] = SERVICE_LOGGERS) -> RepeatFilter:
    """One RepeatFilter on every handler of the named loggers, and on logging's last-resort handler (what writes
    asyncio's errors when the root logger has no handler of its own)."""
    repeats = RepeatFilter()
    handlers = {handler for name in names for handler in logging.getLogger(name).handlers}
    if logging.lastResort is not None:
        handlers.add(logging.lastResort)
    for handler in handlers:
        handler.addFilter(repeats)
    return repeats
