"""The question log the bot keeps in its SQLite file: the questions answered (where each shown passage is) and
readers' votes on them in; the votes' report (`python -m bot --report feedback.sqlite`) and the report of what
the sources don't cover (retrieval/questions) out."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from retrieval import Hit
from retrieval.questions.log import SCHEMA, read_log, shown_reference, stored_shown
from retrieval.questions.report import Report, report

from .database import BUSY_TIMEOUT_SECONDS, Database, DatabaseError

UP, DOWN = 1, -1
REPORT_WORST = 10
# An answer's id is chosen before it is stored, so that the answer goes out without waiting for the write: random,
# as several processes (shards) may write one file. Two of a million answers share one with odds of about 1 in 10
# million; the second write then fails and votes on it are refused, as any failed write's are.
ANSWER_ID_BITS = 62


def new_answer_id() -> int:
    return secrets.randbits(ANSWER_ID_BITS) + 1  # SQLite's integers are signed 64-bit; 0 is never an id


@dataclass(frozen=True)
class VotesReport:
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


class QuestionLog(Database):
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

    def report(self) -> VotesReport:
        with self._transaction() as db:
            answers = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            voted, up, down = db.execute(
                "SELECT COUNT(DISTINCT answer_id), COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) "
                "FROM votes").fetchone()
            rows = db.execute(
                "SELECT a.question, a.passages, SUM(v.vote) AS net FROM votes v JOIN answers a ON a.id = v.answer_id "
                "GROUP BY a.id HAVING net < 0 ORDER BY net, a.asked_at DESC LIMIT ?", (REPORT_WORST,)).fetchall()
        worst = [{"question": q, "net": int(net), "top": first_shown(p)} for q, p, net in rows]
        return VotesReport(answers, voted, int(up), int(down), worst)

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
            raise DatabaseError(f"{self.name} {self.path} cannot be read ({exc})") from None
        return report(asked, days)

    def forget(self, guild_id: int) -> int:
        """Delete every question a server asked and the votes on them; how many questions were deleted."""
        with self._transaction() as db:
            db.execute("DELETE FROM votes WHERE answer_id IN (SELECT id FROM answers WHERE guild_id = ?)", (guild_id,))
            return db.execute("DELETE FROM answers WHERE guild_id = ?", (guild_id,)).rowcount

