"""A bot answering from retrieval services over HTTP (`retrieval_url`): the same answers, and when a replica
dies in the middle of a burst, every question is still answered, in order."""

from __future__ import annotations

import asyncio

import pytest

from bot.service import SERVICE_DOWN
from retrieval import Retriever
from retrieval.service.client import RemoteRetriever
from tests.retrieval.service.conftest import ServiceThread

from .conftest import plain, running_bot
from .fake_discord.codes import EPHEMERAL

QUESTIONS = ["How many North Korean refugees has NAUH resettled?", "Who founded NAUH?", "What is NAUH?",
             "What did Moon Jae-in promise?", "What is the Jangmadang?"]


@pytest.mark.asyncio
async def test_every_question_is_answered_in_order_though_a_replica_dies(fake, fast_retriever: Retriever, caplog):
    questions = fake.channel_id("questions")
    asked = QUESTIONS * 4
    first, second = ServiceThread(fast_retriever), ServiceThread(fast_retriever)
    try:
        remote = RemoteRetriever([first.url, second.url], fast_retriever.settings)
        async with running_bot(fake, remote) as bot:
            handle = await fake.send_interaction("ask", {"question": QUESTIONS[0]})
            (answer,) = await handle.wait_followups(1, timeout=10)
            assert "about 215 North Korean refugees" in plain(answer["embeds"][0]["description"])
            shown = await fake.send_interaction("source", {"id": "park-hero", "paragraph": 8})
            page = (await shown.wait_response())["data"]
            assert "**¶8** To date, about 215" in page["embeds"][0]["description"]  # from the service
            for n, question in enumerate(asked):
                await fake.send_message(question, channel_id=questions, author=fake.human_ids[n % 2])
                if n == len(asked) // 2:  # a replica is killed in the middle of the burst
                    await asyncio.get_running_loop().run_in_executor(None, second.stop)
            replies = await fake.wait_sent(len(asked), channel_id=questions, timeout=30)
            assert bot.is_ready()
    finally:
        first.stop()
        second.stop()
    expected = [fast_retriever.answer(q).hits[0].text for q in asked]
    assert [plain(r["embeds"][0]["description"]) for r in replies] == expected  # all answered, in order
    assert any(second.url in r.getMessage() and "trying the next" in r.getMessage() for r in caplog.records)
    assert fake.violations == []



@pytest.mark.asyncio
async def test_when_no_service_answers_the_asker_is_told_privately(fake, fast_retriever: Retriever, caplog):
    replica = ServiceThread(fast_retriever)
    remote = RemoteRetriever([replica.url], fast_retriever.settings, timeout=2)
    remote.sources  # noqa: B018 - known before the outage, as after a start-up
    replica.stop()
    async with running_bot(fake, remote):
        handle = await fake.send_interaction("ask", {"question": QUESTIONS[0]})
        (notice,) = await handle.wait_followups(1, timeout=15)
    assert notice["content"] == SERVICE_DOWN and notice["flags"] & EPHEMERAL
    assert any("no retrieval service answered" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
