"""Votes on answers: one per user per answer, changeable, and a report that counts them."""

import dataclasses
import json
import sqlite3
import time
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.database import BUSY_TIMEOUT_SECONDS, DatabaseError
from bot.question_log import DOWN, UP, QuestionLog
from retrieval import RetrievalError, Retriever
from retrieval.questions.report import report_from_file
from retrieval.search.cite import citation


def test_one_vote_per_user_that_can_change(tmp_path: Path, fast_retriever: Retriever):
    store = QuestionLog(tmp_path / "votes.sqlite")
    hits = fast_retriever.search("How many North Korean refugees has NAUH resettled?")
    answer = store.record_answer("How many refugees?", hits, guild_id=1, channel_id=2)
    assert store.vote(answer, user_id=10, vote=UP)
    assert store.vote(answer, user_id=10, vote=DOWN)  # changed, not added
    assert store.vote(answer, user_id=11, vote=DOWN)
    report = store.report()
    assert (report.answers, report.voted_answers, report.up, report.down) == (1, 1, 0, 2)
    assert report.worst[0]["question"] == "How many refugees?" and report.worst[0]["net"] == -2
    assert report.worst[0]["top"] == f"{hits[0].source.id} ¶{hits[0].passage.paragraph}"


def test_votes_survive_reopening_and_unknown_answers_are_refused(tmp_path: Path):
    path = tmp_path / "votes.sqlite"
    first = QuestionLog(path)
    answer = first.record_answer("Not covered?", [])
    first.vote(answer, 7, UP)
    first.close()
    again = QuestionLog(path)
    assert again.report().up == 1
    assert again.vote(answer + 100, 7, UP) is False


def test_a_file_that_is_not_sqlite_gets_a_clear_error(tmp_path: Path):
    path = tmp_path / "votes.sqlite"
    path.write_text("not a database, and not to be overwritten " * 100)
    with pytest.raises(RetrievalError, match="cannot be used"):
        QuestionLog(path)
    assert path.read_text().startswith("not a database")


@pytest.mark.slow
def test_a_locked_or_damaged_database_fails_soon_with_a_feedback_error(tmp_path: Path):
    path = tmp_path / "votes.sqlite"
    store = QuestionLog(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the file
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="locked"):
        store.record_answer("Who founded NAUH?", [])
    assert time.monotonic() - started < BUSY_TIMEOUT_SECONDS + 1
    other.close()
    path.write_bytes(b"overwritten while in use " * 1000)
    with pytest.raises(DatabaseError, match="not a database"):
        store.vote(1, 7, UP)


def test_the_report_command_prints_what_the_votes_say(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    store = QuestionLog(tmp_path / "votes.sqlite")
    store.vote(store.record_answer("Where is NAUH based?", []), 1, DOWN)
    store.close()
    assert main(["--report", str(tmp_path / "votes.sqlite")]) == 0
    out = capsys.readouterr().out
    assert "votes up / down    0 / 1" in out and "Where is NAUH based?" in out
    assert main(["--report", str(tmp_path / "votes.sqlite"), "--json"]) == 0
    assert '"down": 1' in capsys.readouterr().out
    assert main(["--report", str(tmp_path / "missing.sqlite")]) == 2
    assert "feedback database" in capsys.readouterr().err


def test_answers_store_where_their_passages_are_not_copies_of_their_citations(tmp_path: Path,
                                                                              fast_retriever: Retriever):
    """A source stating a 9 MB author made five answers 45 MB of votes; an answer keeps source id and paragraph."""
    path = tmp_path / "votes.sqlite"
    store = QuestionLog(path)
    hits = fast_retriever.search("How many North Korean refugees has NAUH resettled?")
    source = dataclasses.replace(hits[0].source, author="Robert Park " * 750_000)
    hostile = [dataclasses.replace(hit, source=source, citation=citation(source, hit.passage)) for hit in hits]
    assert len(hostile[0].citation) > 9_000_000
    for n in range(5):
        store.vote(store.record_answer(f"How many refugees, {n}?", hostile, guild_id=1, channel_id=2), 10, -1)
    store.close()
    assert path.stat().st_size < 100_000
    (stored,) = {row[0] for row in sqlite3.connect(path).execute("SELECT passages FROM answers")}
    assert json.loads(stored) == [{"source_id": h.source.id, "paragraph": h.passage.paragraph} for h in hits]
    found = report_from_file(path, days=1)  # what /report and `eval --feedback` make of it
    assert found.voted_down[0].to_dict()["shown"] == [f"{h.source.id} ¶{h.passage.paragraph}" for h in hits]
    assert f"{hits[0].source.id} ¶{hits[0].passage.paragraph}" in found.csv()
