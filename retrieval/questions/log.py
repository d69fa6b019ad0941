"""The question log the bot keeps in SQLite (questions asked, references to the passages they got, readers'
votes): its tables, what it stores of a passage shown, and reading it back as Asked records."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from ..ingest.readers import cap_field

# The log's tables: one owner (here), written by the bot's vote store, read by the question report (report.py).
# guild_id and channel_id say where a question was asked; user_id is a voter's. Passages is a JSON list of what
# was shown ([] when the sources did not cover the question), each a reference ({"source_id", "paragraph"}), never
# a copy of its citation: a source's metadata would otherwise be stored again with every answer (logs written
# before kept a "citation" too, which is read as it was).
SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY, asked_at REAL NOT NULL, question TEXT NOT NULL, passages TEXT NOT NULL,
    guild_id INTEGER, channel_id INTEGER);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers(id), user_id INTEGER NOT NULL, vote INTEGER NOT NULL,
    voted_at REAL NOT NULL, PRIMARY KEY (answer_id, user_id));
"""
READ_PAGE = 5000  # questions read at a time: a few milliseconds, the longest a write of the bot waits for a report


@dataclass(frozen=True)
class Asked:
    """One question the log holds: when and where, whether the sources covered it, what it showed, its votes."""

    question: str
    asked_at: float
    covered: bool
    citations: list[str]
    up: int = 0
    down: int = 0
    guild_id: int | None = None


def read_log(db: sqlite3.Connection, days: float, guild_id: int | None = None,
             now: float | None = None) -> list[Asked]:
    """The questions asked in the last `days` days (in one server when `guild_id` is given), with their votes,
    in the order asked. Read a page at a time, each page its own read, so that the bot's writes (which wait for
    reads to end) get in between however long the log is."""
    since = (time.time() if now is None else now) - days * 86400
    where, params = "a.asked_at >= ?", [since]
    if guild_id is not None:
        where, params = where + " AND a.guild_id = ?", [since, guild_id]
    rows, after = [], None
    while True:
        page = db.execute(
            "SELECT a.id, a.question, a.asked_at, a.passages, a.guild_id, COALESCE(SUM(v.vote = 1), 0), "
            f"COALESCE(SUM(v.vote = -1), 0) FROM answers a LEFT JOIN votes v ON v.answer_id = a.id WHERE {where} "
            f"{'' if after is None else 'AND a.id > ?'} GROUP BY a.id ORDER BY a.id LIMIT ?",
            [*params, *([] if after is None else [after]), READ_PAGE]).fetchall()
        rows += page
        if len(page) < READ_PAGE:
            break
        after = page[-1][0]
    asked = []
    for _, question, asked_at, passages, guild, up, down in sorted(rows, key=lambda row: row[2]):
        shown = json.loads(passages)
        asked.append(Asked(question, asked_at, bool(shown), [shown_reference(p) for p in shown], int(up),
                           int(down), guild))
    return asked


def stored_shown(source_id: str, paragraph: int) -> dict:
    """What the log keeps of one passage shown: where it is, so that `show ID --paragraph N` finds it again."""
    return {"source_id": source_id, "paragraph": paragraph}


def shown_reference(entry: dict) -> str:
    """A passage the log says was shown, as the report names it: "park-hero ¶8" (an older log's own citation when
    it kept no reference), capped as a source's metadata is."""
    if "source_id" in entry and "paragraph" in entry:
        return cap_field(f"{entry['source_id']} ¶{entry['paragraph']}") or ""
    return cap_field(str(entry.get("citation", ""))) or ""
