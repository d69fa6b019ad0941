"""The question log (questions asked, the passages they got, readers' votes; kept by the bot in SQLite) in; a
report of what the sources don't cover out: questions not covered, answers voted down, the most asked, each
grouped with its near-duplicates, as a table, CSV, or candidate gold questions."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import Stemmer

from ..errors import RetrievalError
from ..ingest.readers import cap_field

# The log's tables: one owner (here), written by the bot's vote store, read by this report. guild_id and
# channel_id say where a question was asked; user_id is a voter's. Passages is a JSON list of what was shown
# ([] when the sources did not cover the question), each a reference ({"source_id", "paragraph"}), never a copy of
# its citation: a source's metadata would otherwise be stored again with every answer (logs written before kept
# a "citation" too, which is read as it was).
SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY, asked_at REAL NOT NULL, question TEXT NOT NULL, passages TEXT NOT NULL,
    guild_id INTEGER, channel_id INTEGER);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers(id), user_id INTEGER NOT NULL, vote INTEGER NOT NULL,
    voted_at REAL NOT NULL, PRIMARY KEY (answer_id, user_id));
"""
# Two questions are near-duplicates when their stemmed word sets overlap this much (Jaccard). Set on the examples
# in tests/retrieval/evaluate/test_feedback.py: case, punctuation, tense and one added word group ("Who founded
# NAUH?", "who founded nauh", "Who founded NAUH then?"); another question word does not ("When was NAUH founded?").
NEAR_DUPLICATE = 0.6
# words that change no question's meaning; question words (who, when ...) stay, as they tell questions apart
STOPWORDS = frozenset(["a", "an", "the", "is", "are", "was", "were", "be", "of", "to", "in", "on", "for", "and",
                       "or", "do", "does", "did", "has", "have", "had", "it", "its", "this", "that"])
STEMMER = Stemmer.Stemmer("english")  # the stemmer BM25 uses: "resettled" and "resettle" are one word
TOP_GROUPS = 20  # groups listed per part of the report


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


@dataclass
class Group:
    """Near-duplicate questions, the first asked standing for them all."""

    question: str
    asked: list[Asked] = field(default_factory=list)

    @property
    def times(self) -> int:
        return len(self.asked)

    @property
    def down(self) -> int:
        return sum(a.down for a in self.asked)

    def to_dict(self) -> dict:
        return {"question": self.question, "times": self.times, "variants": sorted({a.question for a in self.asked}),
                "covered": any(a.covered for a in self.asked), "down_votes": self.down,
                "shown": self.asked[-1].citations}


@dataclass(frozen=True)
class Report:
    """Over `days` days: questions not covered, answers voted down, the most asked, grouped."""

    days: float
    questions: int
    not_covered: list[Group]
    voted_down: list[Group]
    most_asked: list[Group]

    def to_dict(self) -> dict:
        return {"days": self.days, "questions": self.questions,
                "not_covered": [g.to_dict() for g in self.not_covered],
                "voted_down": [g.to_dict() for g in self.voted_down],
                "most_asked": [g.to_dict() for g in self.most_asked]}

    def table(self) -> str:
        lines = [f"{self.questions} questions in the last {self.days:g} days"]
        for title, groups in (("not covered by the sources", self.not_covered),
                              ("answers voted 👎", self.voted_down), ("most asked", self.most_asked)):
            lines.append(f"\n{title}:" if groups else f"\n{title}: none")
            lines += [f"  {g.times:>3}x  {g.question}" + (f"  (👎 {g.down})" if g.down else "") for g in groups]
        return "\n".join(lines)

    def csv(self) -> str:
        """One row per group and part: part, question, times asked, variants, down-votes, passages shown."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["part", "question", "times", "variants", "down_votes", "shown"])
        for part, groups in (("not covered", self.not_covered), ("voted down", self.voted_down),
                             ("most asked", self.most_asked)):
            for g in groups:
                writer.writerow([part, g.question, g.times, " | ".join(sorted({a.question for a in g.asked})),
                                 g.down, " | ".join(g.asked[-1].citations)])
        return out.getvalue()

    def gold(self) -> str:
        """Candidate gold questions (seeds/gold.toml's format) for the questions that went wrong; `expect` is left
        for a person to fill in with a snippet of the passage that answers, or to leave empty if none does."""
        lines = ["# Candidate gold questions from the question log: fill `expect` with a verbatim snippet of the",
                 "# passage that answers each, or leave it empty when the sources truly do not cover it.", ""]
        seen = set()
        for kind, groups in (("not covered", self.not_covered), ("voted down", self.voted_down)):
            for g in groups:
                if g.question in seen:
                    continue
                seen.add(g.question)
                lines += ["[[question]]", f"q = {json.dumps(g.question, ensure_ascii=False)}", "expect = []",
                          f'kind = "direct"   # from the log: {kind}, asked {g.times}x', ""]
        return "\n".join(lines)


def words(question: str) -> frozenset[str]:
    return frozenset(STEMMER.stemWords([w for w in re.findall(r"\w+", question.lower()) if w not in STOPWORDS]))


def similar(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a | b) and len(a & b) / len(a | b) >= NEAR_DUPLICATE


def group(asked: list[Asked]) -> list[Group]:
    """Near-duplicates together, in the order first asked; a question joins the first group it is close to."""
    groups: list[tuple[frozenset[str], Group]] = []
    for item in sorted(asked, key=lambda a: a.asked_at):
        found = words(item.question)
        home = next((g for key, g in groups if similar(key, found)), None)
        if home is None:
            home = Group(item.question)
            groups.append((found, home))
        home.asked.append(item)
    return [g for _, g in groups]


def report(asked: list[Asked], days: float) -> Report:
    groups = group(asked)
    not_covered = [g for g in groups if not any(a.covered for a in g.asked)]
    voted_down = sorted((g for g in groups if g.down), key=lambda g: -g.down)
    most_asked = sorted(groups, key=lambda g: -g.times)
    return Report(days, len(asked), sorted(not_covered, key=lambda g: -g.times)[:TOP_GROUPS],
                  voted_down[:TOP_GROUPS], [g for g in most_asked if g.times > 1][:TOP_GROUPS])


def read_log(db: sqlite3.Connection, days: float, guild_id: int | None = None,
             now: float | None = None) -> list[Asked]:
    """The questions asked in the last `days` days (in one server when `guild_id` is given), with their votes."""
    since = (time.time() if now is None else now) - days * 86400
    where, params = "a.asked_at >= ?", [since]
    if guild_id is not None:
        where, params = where + " AND a.guild_id = ?", [since, guild_id]
    rows = db.execute(
        "SELECT a.question, a.asked_at, a.passages, a.guild_id, COALESCE(SUM(v.vote = 1), 0), "
        f"COALESCE(SUM(v.vote = -1), 0) FROM answers a LEFT JOIN votes v ON v.answer_id = a.id WHERE {where} "
        "GROUP BY a.id ORDER BY a.asked_at", params).fetchall()
    asked = []
    for question, asked_at, passages, guild, up, down in rows:
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


def report_from_file(path: Path, days: float) -> Report:
    """`eval --feedback DB`: the report over a question log file the bot wrote (`feedback_db`)."""
    if not Path(path).is_file():
        raise RetrievalError(f"question log {path} not found (the bot writes it: `feedback_db` in [bot])")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return report(read_log(db, days), days)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise RetrievalError(f"question log {path} cannot be read ({exc})") from None
