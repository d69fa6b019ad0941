"""Fixtures for the bot: the fake Discord, a running SourceBot over the seeds, and an odd corpus (fast tier)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import SourceBot, create_bot
from bot.config import BotConfig
from bot.service import Service
from retrieval import RetrievalConfig, Retriever, load_corpus
from retrieval.ingest.prepared import prepare
from retrieval.store.build import build_index
from retrieval.store.index import open_index
from tests.bot.fake_discord import FakeDiscord

GIANT_PARAGRAPH = " ".join(["Lighthouse keepers trimmed the wicks and wound the clockwork every night."] * 200)
PINGING_TEXT = "Harbour notice for @everyone and <@&1200000000000000001>: the lighthouse opens at dawn."


async def no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
    pass


def plain(description: str) -> str:
    """An embed description without the bold that marks the best sentences: the passage as written."""
    return description.replace("**", "")


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, retriever: Retriever, retrieval: RetrievalConfig | None = None,
                      **settings) -> AsyncIterator[SourceBot]:
    """A SourceBot on the fake; #questions is a question channel and there is no cooldown unless asked.
    With `retrieval` (the config its index came from) it can rebuild and reload that index."""
    state = Path(tempfile.mkdtemp(prefix="bot-state-"))
    config = BotConfig(**{"cooldown_seconds": 0.0, "question_channels": [fake.channel_id("questions")],
                          "feedback_db": state / "feedback.sqlite", "server_sources": state / "server-sources",
                          **settings})
    async with Service(config, retriever, retrieval) as service:
        bot = create_bot(service, guild_ready_timeout=0.05)
        if config.sharded:
            # discord.py waits 5 s before each further IDENTIFY to respect Discord's rate limit; the fake has none
            bot.before_identify_hook = no_identify_wait
        async with fake.running(bot):
            yield bot


@pytest.fixture(scope="session")
def odd_retriever(fast_retriever: Retriever, tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """Twenty-five sources, one with a paragraph longer than any Discord limit, one that tries to ping."""
    folder: Path = tmp_path_factory.mktemp("odd-sources")
    for n in range(23):
        (folder / f"note-{n:02d}.txt").write_text(f"Note {n}\n\nThis short note number {n} is about tides.\n")
    (folder / "giant.txt").write_text(f"The Keepers\n\n{GIANT_PARAGRAPH}\n")
    (folder / "notice.txt").write_text(f"Harbour Notice\n\n{PINGING_TEXT}\n")
    index = tmp_path_factory.mktemp("odd-index") / "index"
    build_index(prepare(load_corpus(folder)), fast_retriever.encoder, index, folder, progress=False)
    return Retriever(open_index(index), fast_retriever.encoder, fast_retriever.settings)
