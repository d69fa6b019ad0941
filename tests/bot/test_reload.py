"""A rebuilt index is picked up without a restart, swapped while answering: /reindex for a server's own library,
SIGHUP for the shared one."""

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, Retriever, open_retriever

from ..conftest import SEEDS
from .conftest import plain, running_bot
from .fake_discord.codes import EPHEMERAL

RESETTLED = "How many North Korean refugees has NAUH resettled?"


@pytest.fixture
def own_index(fast_retriever: Retriever, tmp_path: Path) -> tuple[RetrievalConfig, Retriever]:
    """A copy of the seeds and an index of them that a test may rebuild."""
    sources = Path(shutil.copytree(SEEDS, tmp_path / "sources"))
    config = RetrievalConfig(sources=sources, index=tmp_path / "index")
    return config, open_retriever(config, progress=False, encoder=fast_retriever.encoder)


def edit_sources(config: RetrievalConfig) -> None:
    park = config.sources / "002_2cd59995d98d1c0d.txt"
    park.write_text(park.read_text(encoding="utf-8").replace("about 215", "about 230"), encoding="utf-8")


PILOTS = "How many ships did the harbour pilots guide through the narrows last winter?"
NOTE = "Harbour Pilots\n\nThe harbour pilots guided about 40 ships through the narrows last winter.\n"


async def with_own_note(fake, bot) -> Path:
    """This server's own library: one note, added by a manager; the file it is kept in."""
    handle = await fake.send_interaction("add-source", {"document": fake.upload("pilots.txt", NOTE.encode())})
    await handle.wait_followups(1, timeout=30)
    return bot.service.config.server_sources / str(fake.guild_id) / "pilots.txt"


def edit_note(note: Path) -> None:
    note.write_text(note.read_text(encoding="utf-8").replace("about 40", "about 55"), encoding="utf-8")


async def best_answer(fake, question: str = RESETTLED) -> str:
    before = len(fake.sent_messages())
    await fake.send_message(question, mention_bot=True)
    sent = await fake.wait_sent(before + 1, timeout=10)
    return plain(sent[-1]["embeds"][0]["description"])


@pytest.mark.asyncio
async def test_reindex_rebuilds_and_the_next_question_uses_the_new_index(fake, own_index):
    config, retriever = own_index
    async with running_bot(fake, retriever, retrieval=config) as bot:
        note = await with_own_note(fake, bot)
        assert "about 40" in await best_answer(fake, PILOTS)
        edit_note(note)
        handle = await fake.send_interaction("reindex", user=fake.human_ids[0])  # a Moderator: Manage Server
        (done,) = await handle.wait_followups(1, timeout=30)
        assert handle.ephemeral and "This server's library rebuilt and in use" in done["content"]
        assert "1 embedded" in done["content"]
        assert "about 55" in await best_answer(fake, PILOTS)
        assert bot.service.retriever.get() is retriever  # the shared library is the operator's
    assert fake.violations == []


@pytest.mark.asyncio
async def test_reindex_is_refused_without_manage_server(fake, own_index):
    config, retriever = own_index
    async with running_bot(fake, retriever, retrieval=config) as bot:
        handle = await fake.send_interaction("reindex", user=fake.human_ids[1])  # bob: no Manage Server
        response = await handle.wait_response()
        assert response["data"]["flags"] & EPHEMERAL and "Manage Server" in response["data"]["content"]
        assert bot.service.retriever.get() is retriever


@pytest.mark.asyncio
async def test_questions_during_a_reindex_are_answered_from_the_old_or_new_index(fake, own_index):
    config, retriever = own_index
    async with running_bot(fake, retriever, retrieval=config) as bot:
        edit_note(await with_own_note(fake, bot))
        handle = await fake.send_interaction("reindex", user=fake.human_ids[0])
        questions = [fake.send_message(PILOTS, channel_id=fake.channel_id("questions")) for _ in range(5)]
        await asyncio.gather(*questions)
        await handle.wait_followups(1, timeout=30)
        replies = await fake.wait_sent(5, channel_id=fake.channel_id("questions"), timeout=30)
    texts = [plain(r["embeds"][0]["description"]) for r in replies]
    assert len(texts) == 5 and all("about 40" in t or "about 55" in t for t in texts)


@pytest.mark.asyncio
async def test_sighup_reloads_an_index_rebuilt_outside_the_bot(fake, own_index):
    config, retriever = own_index
    async with running_bot(fake, retriever, retrieval=config) as bot:
        await with_own_note(fake, bot)
        edit_sources(config)
        open_retriever(config, rebuild=True, progress=False, encoder=retriever.encoder)
        os.kill(os.getpid(), signal.SIGHUP)
        await fake.wait_until(lambda: bot.service.retriever.get() is not retriever, 10, "the reload")
        assert "about 230" in await best_answer(fake)  # the server searches the new shared index with its own
        assert "about 40" in await best_answer(fake, PILOTS)


@pytest.mark.asyncio
async def test_a_failed_reload_keeps_the_index_in_use(fake, own_index):
    config, retriever = own_index
    async with running_bot(fake, retriever, retrieval=config) as bot:
        edit_sources(config)  # sources changed but nobody rebuilt: a plain reload must refuse the stale index
        await bot.service.reloader.reload_logged()
        assert bot.service.retriever.get() is retriever
        assert "about 215" in await best_answer(fake)
