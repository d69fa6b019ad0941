"""The bot's SQLite file (`feedback_db`: the question log, readers' votes, servers' settings): one table set each,
used one thread at a time, and any SQLite failure as a DatabaseError that names the file and what to do."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from retrieval import RetrievalError

# Another program holding the file (an open `sqlite3` shell, a backup) makes a write wait this long before it
# fails; short, because the bot has one writer thread and votes are never worth holding it up.
BUSY_TIMEOUT_SECONDS = 1.5


class DatabaseError(RetrievalError):
    """The bot's database cannot be read or written: locked by another program, damaged, or the disk is full."""

    PUBLIC = "the bot's database is busy or cannot be written; try again in a minute"


class Database:
    """One table set in the bot's SQLite file, used one thread at a time; any SQLite failure becomes a
    DatabaseError that names the file (`name` says what it holds) and, on opening, what to do (`advice`)."""

    def __init__(self, path: Path | str, schema: str, name: str, advice: str) -> None:
        self.path = Path(path)
        self.name = name
        self.lock = threading.Lock()
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
            self.db.executescript(schema)
        except sqlite3.Error as exc:
            raise DatabaseError(f"{name} {self.path} cannot be used ({exc}); {advice}") from None

    @contextlib.contextmanager
    def _transaction(self, doing: str = "used") -> Iterator[sqlite3.Connection]:
        """The connection, one thread at a time, in a transaction."""
        with self.lock:
            try:
                with self.db:
                    yield self.db
            except sqlite3.Error as exc:
                raise DatabaseError(f"{self.name} {self.path} cannot be {doing} ({exc})") from None

    def close(self) -> None:
        self.db.close()
