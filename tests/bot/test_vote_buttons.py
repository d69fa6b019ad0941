"""👍 / 👎 under every answer: each press is stored per user and can be changed; votes never hold up answers."""

import asyncio
import logging
import sqlite3
import threading

import pytest

from bot import database, question_log
from bot.question_log import QuestionLog
from bot.replies import FAILED
from bot.vote_buttons import NOT_KEPT_NOW
from retrieval import Retriever

from .conftest import running_bot
from .fake_discord.codes import EPHEMERAL

RESETTLED = "How many North Korean refugees has NAUH resettled?"


def vote_buttons(message: dict) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in message.get("components", []) for b in row["components"]}


@pytest.mark.asyncio
async def test_votes_are_stored_per_user_and_can_change(fake, fast_retriever: Retriever, tmp_path):
    votes = tmp_path / "votes.sqlite"
    async with running_bot(fake, fast_retriever, feedback_db=votes):
        await fake.send_message("How many North Korean refugees has NAUH resettled?", mention_bot=True)
        (answer,) = await fake.wait_sent(1, timeout=10)
        buttons = vote_buttons(answer)
        assert set(buttons) == {"Helpful", "Not helpful"}
        alice, bob = fake.human_ids[0], fake.human_ids[1]
        for user, label in ((alice, "Helpful"), (alice, "Not helpful"), (bob, "Not helpful")):
            press = await fake.send_interaction(custom_id=buttons[label], message=answer, user=user)
            (thanks,) = await press.wait_followups(1)
            assert thanks["flags"] & EPHEMERAL and "recorded" in thanks["content"]
    report = QuestionLog(votes).report()
    assert (report.answers, report.up, report.down) == (1, 0, 2)
    assert fake.violations == []


@pytest.mark.asyncio
async def test_ask_answers_carry_vote_buttons_too(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        handle = await fake.send_interaction("ask", {"question": "Who won the 2018 World Cup?"})
        (answer,) = await handle.wait_followups(1, timeout=10)
    assert set(vote_buttons(answer)) == {"Helpful", "Not helpful"}


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def warnings_logged(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


@pytest.mark.asyncio
async def test_a_locked_vote_database_never_holds_up_answers(fake, fast_retriever: Retriever, tmp_path,
                                                             caplog: pytest.LogCaptureFixture, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 0.2)  # each refused write waits this long
    votes = tmp_path / "votes.sqlite"
    async with running_bot(fake, fast_retriever, feedback_db=votes):
        await fake.send_message(RESETTLED, mention_bot=True)
        (earlier,) = await fake.wait_sent(1, timeout=10)
        other = sqlite3.connect(votes, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another program holds the file, e.g. an sqlite3 shell
        try:
            handle = await fake.send_interaction("ask", {"question": RESETTLED})
            (asked,) = await handle.wait_followups(1, timeout=10)  # sent before its record is even tried
            await fake.wait_until(lambda: warnings_logged(caplog, "votes are not being kept"), 10, "the failure")
            await fake.send_message("Who founded NAUH?", mention_bot=True)
            _, mentioned = await fake.wait_sent(2, timeout=10)
            press = await fake.send_interaction(custom_id=vote_buttons(earlier)["Helpful"], message=earlier)
            (refusal,) = await press.wait_followups(1, timeout=10)
        finally:
            other.close()
    assert asked["embeds"] and mentioned["embeds"]  # answered in full...
    assert vote_buttons(mentioned) == {}  # ...and, once writes are known to fail, without buttons to lose votes
    assert refusal["flags"] & EPHEMERAL and refusal["content"] == NOT_KEPT_NOW
    assert len(warnings_logged(caplog, "votes are not being kept")) == 1  # once, not per message
    assert errors_logged(caplog) == []


@pytest.mark.asyncio
async def test_answers_are_recorded_again_soon_after_the_lock_is_let_go(fake, fast_retriever: Retriever, tmp_path,
                                                                       caplog: pytest.LogCaptureFixture, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 0.2)
    retry = 0.5  # records are dropped untried this long after a failure
    monkeypatch.setattr("bot.vote_buttons.RETRY_SECONDS", retry)
    votes = tmp_path / "votes.sqlite"
    async with running_bot(fake, fast_retriever, feedback_db=votes) as bot:
        other = sqlite3.connect(votes, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        for _ in range(5):
            await fake.send_message(RESETTLED, mention_bot=True)
        await fake.wait_sent(5, timeout=10)
        await fake.wait_until(lambda: warnings_logged(caplog, "votes are not being kept"), 10, "the failure")
        other.close()
        await asyncio.sleep(retry)
        await fake.send_message(RESETTLED, mention_bot=True)  # its record tries the database again, and is kept
        await fake.wait_sent(6, timeout=10)
        await bot.service.votes.settled()  # written: the next answer's buttons can be kept
        await fake.send_message(RESETTLED, mention_bot=True)
        answers = await fake.wait_sent(7, timeout=10)
    assert vote_buttons(answers[-1])  # buttons again, their votes kept
    assert 2 <= QuestionLog(votes).report().answers < 7  # what came while it was locked was dropped, not queued


@pytest.mark.asyncio
async def test_a_vote_database_damaged_while_running_still_lets_questions_be_answered(
        fake, fast_retriever: Retriever, tmp_path, caplog: pytest.LogCaptureFixture):
    votes = tmp_path / "votes.sqlite"
    async with running_bot(fake, fast_retriever, feedback_db=votes):
        votes.write_bytes(b"not a database any more " * 1000)
        await fake.send_message(RESETTLED, mention_bot=True)
        (answer,) = await fake.wait_sent(1, timeout=10)  # sent before its record is tried
        await fake.wait_until(lambda: warnings_logged(caplog, "votes are not being kept"), 10, "the failure")
        await fake.send_message(RESETTLED, mention_bot=True)
        _, later = await fake.wait_sent(2, timeout=10)
    assert answer["embeds"] and later["embeds"] and vote_buttons(later) == {}
    (warning,) = warnings_logged(caplog, "votes are not being kept")
    assert str(votes) in warning
    assert errors_logged(caplog) == []


@pytest.mark.asyncio
async def test_a_damaged_vote_database_at_start_up_means_no_votes_not_a_crash(
        fake, fast_retriever: Retriever, tmp_path, caplog: pytest.LogCaptureFixture):
    votes = tmp_path / "votes.sqlite"
    votes.write_text("not a database " * 1000)
    async with running_bot(fake, fast_retriever, feedback_db=votes):
        await fake.send_message(RESETTLED, mention_bot=True)
        (answer,) = await fake.wait_sent(1, timeout=10)
    assert answer["embeds"] and vote_buttons(answer) == {}
    (warning,) = warnings_logged(caplog, "votes are off")
    assert str(votes) in warning and "move it away" in warning
    assert votes.read_text().startswith("not a database")  # the file is left for its owner to look at


@pytest.mark.asyncio
async def test_a_vote_button_that_fails_answers_the_voter(fake, fast_retriever: Retriever, monkeypatch):
    async with running_bot(fake, fast_retriever):
        await fake.send_message(RESETTLED, mention_bot=True)
        (answer,) = await fake.wait_sent(1, timeout=10)
        monkeypatch.setattr(QuestionLog, "vote", broken_vote)
        press = await fake.send_interaction(custom_id=vote_buttons(answer)["Helpful"], message=answer)
        (notice,) = await press.wait_followups(1)
    assert notice["content"] == FAILED and notice["flags"] & EPHEMERAL


def broken_vote(store: QuestionLog, answer_id: int, user_id: int, value: int) -> bool:
    raise KeyError(answer_id)  # a bug, not a database problem


@pytest.mark.asyncio
async def test_an_answer_never_waits_for_its_record(fake, fast_retriever: Retriever, tmp_path):
    votes = tmp_path / "votes.sqlite"
    busy = threading.Event()
    async with running_bot(fake, fast_retriever, feedback_db=votes) as bot:
        bot.service.writer.submit(busy.wait, 30)  # the writer thread is held up, by whatever
        try:
            await fake.send_message(RESETTLED, mention_bot=True)
            (answer,) = await fake.wait_sent(1, timeout=5)
        finally:
            busy.set()
        press = await fake.send_interaction(custom_id=vote_buttons(answer)["Helpful"], message=answer)
        (thanks,) = await press.wait_followups(1, timeout=10)
    assert answer["embeds"] and "recorded" in thanks["content"]  # the vote, queued after the record, found it
    assert QuestionLog(votes).report().up == 1


@pytest.mark.asyncio
async def test_a_report_being_made_holds_up_neither_answers_nor_votes(fake, fast_retriever: Retriever, tmp_path,
                                                                      monkeypatch):
    making = threading.Event()
    release = threading.Event()
    report = question_log.report

    def slow_report(*args):
        making.set()
        release.wait(30)  # a report over a long question log, in another server
        return report(*args)

    monkeypatch.setattr(question_log, "report", slow_report)
    async with running_bot(fake, fast_retriever, feedback_db=tmp_path / "votes.sqlite"):
        await fake.send_message(RESETTLED, mention_bot=True)
        (earlier,) = await fake.wait_sent(1, timeout=10)
        reporting = await fake.send_interaction("report", {})
        await fake.wait_until(making.is_set, 5, "the report being made")
        try:
            await fake.send_message("Who founded NAUH?", mention_bot=True)
            _, answer = await fake.wait_sent(2, timeout=5)
            press = await fake.send_interaction(custom_id=vote_buttons(earlier)["Helpful"], message=earlier)
            (thanks,) = await press.wait_followups(1, timeout=5)
            assert not reporting.followups  # all of it while the report was still being made
        finally:
            release.set()
        await reporting.wait_followups(1, timeout=10)
    assert answer["embeds"] and vote_buttons(answer) and "recorded" in thanks["content"]
