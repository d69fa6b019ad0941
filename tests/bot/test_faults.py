"""Whatever goes wrong, the asker hears back privately, and the log says once, in plain words, what happened."""

import logging

import pytest

from bot.replies import FAILED, NOT_SEARCHED
from retrieval import Retriever
from tests.bot.fake_discord.model import SEND_MESSAGES

from .conftest import running_bot
from .fake_discord.codes import EPHEMERAL, Callback

RESETTLED = "How many North Korean refugees has NAUH resettled?"


def broken_search(*_: object, **__: object):
    raise KeyError("passage 4711")  # a bug in the library, not a RetrievalError


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info]


def unhandled(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What discord.py logs for an exception the bot let escape."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Ignoring exception")]


@pytest.mark.asyncio
async def test_a_question_whose_search_fails_gets_a_private_notice(fake, fast_retriever: Retriever, monkeypatch,
                                                                   caplog: pytest.LogCaptureFixture):
    async with running_bot(fake, fast_retriever) as bot:
        monkeypatch.setattr(bot.service.retriever.get(), "answer", broken_search)
        await fake.send_message(RESETTLED, mention_bot=True)
        (notice,) = await fake.wait_sent(1, timeout=10)
    assert notice["content"] == NOT_SEARCHED
    assert notice["channel_id"] == str(fake.dm_channel_id(fake.human_ids[0]))  # privately, in a DM
    (logged,) = tracebacks(caplog)
    assert logged.exc_info[0] is KeyError and "question failed" in logged.getMessage()
    assert unhandled(caplog) == []


@pytest.mark.asyncio
async def test_ask_whose_search_fails_is_not_left_thinking(fake, fast_retriever: Retriever, monkeypatch,
                                                           caplog: pytest.LogCaptureFixture):
    async with running_bot(fake, fast_retriever) as bot:
        monkeypatch.setattr(bot.service.retriever.get(), "answer", broken_search)
        handle = await fake.send_interaction("ask", {"question": RESETTLED})
        (notice,) = await handle.wait_followups(1, timeout=10)
    assert handle.response["type"] == Callback.DEFERRED_CHANNEL_MESSAGE  # deferred: "thinking…" was shown, in public
    assert handle.original_deleted  # ...and taken away, so that the notice can be private
    assert notice["content"] == NOT_SEARCHED and notice["flags"] & EPHEMERAL
    assert len(tracebacks(caplog)) == 1 and unhandled(caplog) == []
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_command_that_fails_answers_privately(fake, fast_retriever: Retriever, monkeypatch,
                                                      caplog: pytest.LogCaptureFixture):
    async with running_bot(fake, fast_retriever) as bot:
        monkeypatch.setattr(bot.service.retriever.get(), "answerable_count", broken_search)
        handle = await fake.send_interaction("sources")
        response = await handle.wait_response()
    assert response["data"]["content"] == FAILED and response["data"]["flags"] & EPHEMERAL
    (logged,) = tracebacks(caplog)
    assert logged.exc_info[0] is KeyError and logged.getMessage().startswith("/sources failed")
    assert unhandled(caplog) == []


@pytest.mark.asyncio
async def test_a_channel_the_bot_cannot_post_in_is_logged_once_with_the_permission_to_give(
        fake, fast_retriever: Retriever, caplog: pytest.LogCaptureFixture):
    general = fake.channel_id("general")
    async with running_bot(fake, fast_retriever):
        await fake.deny_bot(general, SEND_MESSAGES)
        await fake.send_message(RESETTLED, mention_bot=True)
        await fake.send_message("Who founded NAUH?", mention_bot=True)
        await fake.wait_until(lambda: len([r for r in fake.requests if r.status == 403]) == 2, 10, "two refusals")
        await fake.send_message(RESETTLED, channel_id=fake.channel_id("questions"))
        (answered,) = await fake.wait_sent(1, timeout=10)
    assert answered["channel_id"] == str(fake.channel_id("questions"))  # the bot still answers elsewhere
    warnings = [r.getMessage() for r in caplog.records if "cannot reply" in r.getMessage()]
    assert warnings == [f"cannot reply in channel {general} of guild {fake.guild_id}: missing permission "
                        "(Send Messages); give the bot these permissions"]
    assert unhandled(caplog) == []


@pytest.mark.asyncio
async def test_a_reply_lost_to_a_discord_outage_is_logged_as_discord_failing(
        fake, fast_retriever: Retriever, caplog: pytest.LogCaptureFixture):
    general = fake.channel_id("general")
    async with running_bot(fake, fast_retriever) as bot:
        fake.fail_channel(general, 503)
        await fake.send_message(RESETTLED, mention_bot=True)
        await fake.wait_until(lambda: any("Discord failed" in r.getMessage() for r in caplog.records), 10,
                              "the outage logged")
        assert bot.is_ready()
    (warning,) = [r.getMessage() for r in caplog.records if "Discord failed" in r.getMessage()]
    assert "HTTP 503" in warning and f"channel {general} of guild {fake.guild_id}" in warning
    assert unhandled(caplog) == []
