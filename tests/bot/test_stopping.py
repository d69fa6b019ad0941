"""Stopping (SIGTERM, SIGINT) drops no question: those being answered finish within the grace period, the rest and
any that come in meanwhile are told privately that the bot is restarting, and the process exits with status 0."""

import asyncio
import signal
import sys
import time

import pytest

from bot.stopping import RESTARTING
from retrieval import Retriever

from ..conftest import PROJECT
from .conftest import running_bot
from .fake_discord.codes import EPHEMERAL

RESETTLED = "How many North Korean refugees has NAUH resettled?"
SEARCH_SECONDS = 0.4  # each search is slowed to this, so that a queue of them outlasts the grace period
GRACE_SECONDS = 1.0
ASKED = 8


def slowed(retriever: Retriever, monkeypatch: pytest.MonkeyPatch) -> None:
    answer = retriever.answer

    def slow_answer(*args, **kwargs):
        time.sleep(SEARCH_SECONDS)
        return answer(*args, **kwargs)

    monkeypatch.setattr(retriever, "answer", slow_answer)


def outcome(handle) -> str:
    """What an /ask got in the end: its answer, the restarting notice, or nothing but "thinking…"."""
    for message in handle.followups:
        if message.get("embeds"):
            return "answered"
        if message["content"] == RESTARTING and message["flags"] & EPHEMERAL:
            return "told"
    data = (handle.response or {}).get("data") or {}
    return "told" if data.get("content") == RESTARTING and data.get("flags", 0) & EPHEMERAL else "left waiting"


@pytest.mark.asyncio
async def test_a_stop_finishes_what_it_can_and_tells_the_rest_privately(fake, fast_retriever: Retriever,
                                                                       monkeypatch: pytest.MonkeyPatch):
    # The first answer in a process loads the language check's model (1.5 s here): run alone, this test's first
    # question outlasted the grace period and none was answered
    await asyncio.to_thread(fast_retriever.answer, RESETTLED)
    async with running_bot(fake, fast_retriever, stop_grace_seconds=GRACE_SECONDS) as bot:
        slowed(bot.service.retriever.get(), monkeypatch)
        handles = [await fake.send_interaction("ask", {"question": RESETTLED}, user=user)
                   for user in [fake.add_human(f"asker{n}") for n in range(ASKED)]]
        await fake.wait_until(lambda: all(h.acknowledged for h in handles), 5, "every /ask deferred")
        bot.stop_on_signal(signal.SIGTERM)
        late = await fake.send_interaction("ask", {"question": RESETTLED}, user=fake.human_ids[1])
        await late.wait_response()
        await asyncio.wait_for(bot.stopping, GRACE_SECONDS + 10)
    outcomes = [outcome(h) for h in handles]
    assert "left waiting" not in outcomes
    assert 1 <= outcomes.count("answered") < ASKED and outcomes.count("told") >= 1  # the grace period was used
    assert outcome(late) == "told" and not late.followups  # a question after the stop began is not taken
    told = [h for h in handles if outcome(h) == "told"]
    assert all(h.original_deleted for h in told)  # the public "thinking…" went away: the notice is private
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_message_question_is_told_by_dm_when_it_cannot_be_finished(fake, fast_retriever: Retriever,
                                                                          monkeypatch: pytest.MonkeyPatch):
    async with running_bot(fake, fast_retriever, stop_grace_seconds=0.0) as bot:
        slowed(bot.service.retriever.get(), monkeypatch)
        await fake.send_message(RESETTLED, mention_bot=True)
        await fake.wait_until(lambda: bot.service.in_flight.asking, 5, "the question taken")
        bot.stop_on_signal(signal.SIGINT)
        for n in range(5):  # asked while the bot stops: one notice for them all
            await fake.send_message(f"Another question number {n}?", mention_bot=True, author=fake.human_ids[1])
        await asyncio.wait_for(bot.stopping, 10)
    first, second = sorted(fake.sent_messages(), key=lambda m: m["channel_id"] != str(fake.dm_channel_id()))
    assert first["content"] == RESTARTING and first["channel_id"] == str(fake.dm_channel_id(fake.human_ids[0]))
    assert second["content"] == RESTARTING and second["channel_id"] == str(fake.dm_channel_id(fake.human_ids[1]))


@pytest.mark.asyncio
async def test_a_second_signal_ends_the_grace_period_at_once(fake, fast_retriever: Retriever,
                                                             monkeypatch: pytest.MonkeyPatch):
    async with running_bot(fake, fast_retriever, stop_grace_seconds=60) as bot:
        slowed(bot.service.retriever.get(), monkeypatch)
        handles = [await fake.send_interaction("ask", {"question": RESETTLED}, user=user)
                   for user in [fake.add_human(f"asker{n}") for n in range(ASKED)]]
        await fake.wait_until(lambda: all(h.acknowledged for h in handles), 5, "every /ask deferred")
        bot.stop_on_signal(signal.SIGTERM)
        await asyncio.sleep(SEARCH_SECONDS)
        bot.stop_on_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.stopping, 10)  # not the 60 s of the grace period
    outcomes = [outcome(h) for h in handles]
    assert "left waiting" not in outcomes and outcomes.count("told") >= ASKED // 2


@pytest.mark.asyncio
# Both signals reach one handler (bot/app.py, STOP_SIGNALS): SIGINT's run, a second bot process, is in the slow tier.
@pytest.mark.parametrize("stop", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
async def test_the_process_stops_on_a_signal_with_status_zero_and_nobody_left_thinking(fake, tmp_path, stop):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bot.stoppable_bot", fake.base_url.removesuffix("/api/v10"), fake.token,
        str(tmp_path / "feedback.sqlite"), str(GRACE_SECONDS), str(SEARCH_SECONDS), cwd=PROJECT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await fake.wait_until(lambda: fake.commands, 60, "the bot connected and synced its commands")
        handles = [await fake.send_interaction("ask", {"question": RESETTLED}, user=user)
                   for user in [fake.add_human(f"asker{n}") for n in range(ASKED)]]
        await fake.wait_until(lambda: all(h.acknowledged for h in handles), 5, "every /ask deferred")
        process.send_signal(stop)
        out, err = await asyncio.wait_for(process.communicate(), GRACE_SECONDS + 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()[-2000:]
    assert b"stopped cleanly" in out
    outcomes = [outcome(h) for h in handles]
    assert "left waiting" not in outcomes and "answered" in outcomes


@pytest.mark.asyncio
async def test_a_manager_command_cut_short_by_a_stop_is_told_too(fake, fast_retriever: Retriever, fast_config,
                                                                monkeypatch: pytest.MonkeyPatch):
    async with running_bot(fake, fast_retriever, retrieval=fast_config, stop_grace_seconds=0.2) as bot:
        async def slow_rebuild(*_, **__):
            await asyncio.sleep(30)  # a long rebuild of the server's library

        monkeypatch.setattr(bot.service.libraries, "has_library", lambda _: True)
        monkeypatch.setattr(bot.get_cog("Admin"), "change", slow_rebuild)
        handle = await fake.send_interaction("reindex")  # alice manages the server
        await handle.wait_response()
        bot.stop_on_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.stopping, 10)
    assert outcome(handle) == "told"
