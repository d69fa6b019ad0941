"""Readers' votes on the bot's answers, kept in a local SQLite file, and the report that turns them into a measure
(`python -m bot --report feedback.sqlite`)."""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from retrieval import Hit, RetrievalError
from retrieval.questions.log import SCHEMA, read_log, shown_reference, stored_shown
from retrieval.questions.report import Report, report

UP, DOWN = 1, -1
REPORT_WORST = 10
# Another program holding the file (an open `sqlite3` shell, a backup) makes a write wait this long before it
# fails; short, because the bot has one writer thread and votes are never worth holding it up.
BUSY_TIMEOUT_SECONDS = 1.5
# An answer's id is chosen before it is stored, so that the answer goes out without waiting for the write: random,
# as several processes (shards) may write one file. Two of a million answers share one with odds of about 1 in 10
# million; the second write then fails and votes on it are refused, as any failed write's are.
ANSWER_ID_BITS = 62


def new_answer_id() -> int:
    return secrets.randbits(ANSWER_ID_BITS) + 1  # SQLite's integers are signed 64-bit; 0 is never an id


class FeedbackError(RetrievalError):
    """The vote database cannot be read or written: locked by another program, damaged, or the disk is full."""

    PUBLIC = "the bot's database is busy or cannot be written; try again in a minute"


@dataclass(frozen=True)
class FeedbackReport:
    answers: int
    voted_answers: int
    up: int
    down: int
    worst: list[dict]  # answers with the most net down-votes: question and the first passage shown (its reference)

    def table(self) -> str:
        helpful = f"{self.up / (self.up + self.down):.1%}" if self.up + self.down else "n/a"
        lines = [f"answers shown      {self.answers}", f"answers voted on   {self.voted_answers}",
                 f"votes up / down    {self.up} / {self.down}", f"share helpful      {helpful}"]
        if self.worst:
            lines.append("most down-voted:")
            lines += [f"  {w['net']:+d}  {w['question']}  -> {w['top'] or 'not covered'}" for w in self.worst]
        return "\n".join(lines)


def first_shown(passages: str) -> str | None:
    """The reference of the first passage an answer showed; None when the sources did not cover it."""
    shown = json.loads(passages)
    return shown_reference(shown[0]) if shown else None


class SQLiteStore:
    """One table set in the bot's SQLite file, used one thread at a time; any SQLite failure becomes a
    FeedbackError that names the file (`name` says what it holds) and, on opening, what to do (`advice`)."""

    def __init__(self, path: Path | str, schema: str, name: str, advice: str) -> None:
        self.path = Path(path)
        self.name = name
        self.lock = threading.Lock()
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
            self.db.executescript(schema)
        except sqlite3.Error as exc:
            raise FeedbackError(f"{name} {self.path} cannot be used ({exc}); {advice}") from None

    @contextlib.contextmanager
    def _transaction(self, doing: str = "used") -> Iterator[sqlite3.Connection]:
        """The connection, one thread at a time, in a transaction."""
        with self.lock:
            try:
                with self.db:
                    yield self.db
            except sqlite3.Error as exc:
                raise FeedbackError(f"{self.name} {self.path} cannot be {doing} ({exc})") from None

    def close(self) -> None:
        self.db.close()


class FeedbackStore(SQLiteStore):
    """The questions kept and the votes on them; safe to use from the bot's worker thread and the event loop
    alike."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, SCHEMA, "feedback database", "move it away or set another `feedback_db`")

    def record_answer(self, question: str, hits: list[Hit], guild_id: int | None = None,
                      channel_id: int | None = None, answer_id: int | None = None) -> int:
        """Store what was shown for a question (where each passage is, not its citation) under `answer_id` (a new
        one when None); returns the id that votes refer to."""
        shown = json.dumps([stored_shown(h.source.id, h.passage.paragraph) for h in hits], ensure_ascii=False)
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO answers (id, asked_at, question, passages, guild_id, channel_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (answer_id or new_answer_id(), time.time(), question, shown, guild_id, channel_id))
            return int(cursor.lastrowid)

    def vote(self, answer_id: int, user_id: int, vote: int) -> bool:
        """Record or change one user's vote on an answer; False when the answer is unknown."""
        if vote not in (UP, DOWN):
            raise ValueError("vote must be +1 or -1")
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute("INSERT INTO votes (answer_id, user_id, vote, voted_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, "
                       "voted_at = excluded.voted_at", (answer_id, user_id, vote, time.time()))
            return True

    def report(self) -> FeedbackReport:
        with self._transaction() as db:
            answers = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            voted, up, down = db.execute(
                "SELECT COUNT(DISTINCT answer_id), COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) "
                "FROM votes").fetchone()
            rows = db.execute(
                "SELECT a.question, a.passages, SUM(v.vote) AS net FROM votes v JOIN answers a ON a.id = v.answer_id "
                "GROUP BY a.id HAVING net < 0 ORDER BY net, a.asked_at DESC LIMIT ?", (REPORT_WORST,)).fetchall()
        worst = [{"question": q, "net": int(net), "top": first_shown(p)} for q, p, net in rows]
        return FeedbackReport(answers, voted, int(up), int(down), worst)

    def questions_report(self, days: float, guild_id: int | None) -> Report:
        """What the sources don't cover, for one server (all when None), over the last `days` days; read on a
        connection of its own, so that it can run beside writes (on another thread than the writer's)."""
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
            try:
                asked = read_log(db, days, guild_id)
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise FeedbackError(f"{self.name} {self.path} cannot be read ({exc})") from None
        return report(asked, days)

    def forget(self, guild_id: int) -> int:
        """Delete every question a server asked and the votes on them; how many questions were deleted."""
        with self._transaction() as db:
            db.execute("DELETE FROM votes WHERE answer_id IN (SELECT id FROM answers WHERE guild_id = ?)", (guild_id,))
            return db.execute("DELETE FROM answers WHERE guild_id = ?", (guild_id,)).rowcount

