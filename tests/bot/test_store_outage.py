"""A bot whose index is in a Milvus server that goes down: the asker hears privately that the sources cannot be
searched now (the same notice as when retrieval services are down), never the server's address, which only the
log gets; and once Milvus is back, questions are answered again with nothing done by hand."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.markdown import escape
from bot.service import SERVICE_DOWN
from retrieval import RetrievalConfig, open_retriever
from retrieval.benchmarks.milvus_lite import MilvusServer
from tests.conftest import SEEDS
from tests.encoders import WordHashEncoder

from .conftest import running_bot
from .fake_discord.codes import EPHEMERAL

RESETTLED = "How many North Korean refugees has NAUH resettled?"


@pytest.mark.asyncio
async def test_a_store_outage_is_told_privately_without_the_address(fake, tmp_path, caplog):
    server = MilvusServer(tmp_path / "milvus")
    with server:
        config = RetrievalConfig(sources=SEEDS, store="milvus", milvus_uri=server.url)
        retriever = await asyncio.to_thread(open_retriever, config, progress=False, encoder=WordHashEncoder())
    async with running_bot(fake, retriever):  # Milvus is down from here on
        await fake.send_message(RESETTLED, mention_bot=True)
        (notice,) = await fake.wait_sent(1, timeout=15)
        handle = await fake.send_interaction("ask", {"question": RESETTLED})
        (asked,) = await handle.wait_followups(1, timeout=15)
    assert notice["content"] == SERVICE_DOWN
    assert notice["channel_id"] == str(fake.dm_channel_id(fake.human_ids[0]))  # privately, not in the channel
    assert asked["content"] == SERVICE_DOWN and asked["flags"] & EPHEMERAL and handle.original_deleted
    shown = [m.get("content", "") for m in fake.sent_messages()] + [m.get("content", "") for m in handle.followups]
    assert not any("127.0.0.1" in text or str(server.port) in text for text in shown)
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR" and "not searched" in r.getMessage()]
    assert len(logged) == 2 and all(server.url in line for line in logged)  # the address is for the operator


@pytest.mark.asyncio
async def test_questions_are_answered_again_once_milvus_is_back(fake, tmp_path, fast_retriever):
    server = MilvusServer(tmp_path / "milvus")
    with server:
        config = RetrievalConfig(sources=SEEDS, store="milvus", milvus_uri=server.url)
        await asyncio.to_thread(open_retriever, config, progress=False, encoder=WordHashEncoder())
        replica = await asyncio.to_thread(open_retriever, replace(config, auto_build="never"),
                                          encoder=WordHashEncoder())
    expected = escape(fast_retriever.answer(RESETTLED).hits[0].citation)
    with server:  # restarted on the same port: every collection is released
        async with running_bot(fake, replica):
            answered = []
            for _ in range(20):  # the client reconnects by itself within a second or two; released stays released
                handle = await fake.send_interaction("ask", {"question": RESETTLED})
                (reply,) = await handle.wait_followups(1, timeout=15)
                if reply.get("embeds"):
                    answered.append(reply["embeds"][0]["title"])
                    break
                await asyncio.sleep(0.5)
    assert answered == [expected]
