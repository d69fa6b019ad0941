"""Which messages the bot answers: mentions, question channels and DMs; never bots or empty text."""

import asyncio

import pytest

from bot.config import BotConfig
from bot.routing import Cooldown, Incoming, Turns, question_from

BOT_ID = 42


def message(content: str = "What is NAUH?", **changes) -> Incoming:
    fields = {"content": content, "author_is_bot": False, "is_direct": False, "channel_id": 1,
              "parent_channel_id": None, "mentions_us": False, **changes}
    return Incoming(**fields)


def test_a_mention_is_a_question_without_the_mention():
    asked = message(f"<@{BOT_ID}> What is NAUH?", mentions_us=True)
    assert question_from(asked, BOT_ID, BotConfig()) == "What is NAUH?"


def test_question_channels_and_their_threads_need_no_mention():
    config = BotConfig(question_channels=[7])
    assert question_from(message(channel_id=7), BOT_ID, config) == "What is NAUH?"
    assert question_from(message(channel_id=99, parent_channel_id=7), BOT_ID, config) == "What is NAUH?"
    assert question_from(message(channel_id=8), BOT_ID, config) is None


def test_without_require_mention_every_message_is_a_question():
    assert question_from(message(), BOT_ID, BotConfig(require_mention=False)) == "What is NAUH?"


def test_direct_messages_follow_the_config():
    assert question_from(message(is_direct=True), BOT_ID, BotConfig()) == "What is NAUH?"
    assert question_from(message(is_direct=True), BOT_ID, BotConfig(answer_direct_messages=False)) is None


def test_bots_and_empty_questions_are_ignored():
    assert question_from(message(author_is_bot=True, mentions_us=True), BOT_ID, BotConfig()) is None
    assert question_from(message(f"<@{BOT_ID}>   ", mentions_us=True), BOT_ID, BotConfig()) is None


def test_cooldown_is_per_user():
    cooldown = Cooldown(5.0)
    assert cooldown.retry_after(1, now=100.0) == 0
    assert cooldown.retry_after(1, now=102.0) == 3.0
    assert cooldown.retry_after(2, now=102.0) == 0
    assert cooldown.retry_after(1, now=105.0) == 0


@pytest.mark.asyncio
async def test_turns_keep_replies_in_arrival_order_even_after_an_error():
    turns, sent = Turns(), []

    async def question(name: str, work: float, fail: bool = False) -> None:
        async with turns.turn(channel_id=1) as after_previous:
            await asyncio.sleep(work)
            if fail:
                raise RuntimeError(name)
            await after_previous()
            sent.append(name)

    results = await asyncio.gather(question("first", 0.05), question("broken", 0.0, fail=True),
                                   question("third", 0.0), return_exceptions=True)
    assert sent == ["first", "third"] and isinstance(results[1], RuntimeError)
    assert turns.last == {}
