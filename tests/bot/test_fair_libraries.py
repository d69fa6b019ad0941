"""Servers' library work never holds up another server, through real discord.py on the fake Discord: B's small
/add-source goes in while A's heavy one is still being indexed; a Word file of 200,000 one-word paragraphs is
refused at once; a damaged library is rebuilt in the background while its server's questions are answered from
the shared library, with a notice; a stop that cuts an /add-source short tells its manager what became of it."""

from __future__ import annotations

import asyncio
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from retrieval import RetrievalConfig, Retriever, open_retriever
from retrieval.benchmarks.fairness import many_paragraphs_docx
from tests.bot.fake_discord import FakeDiscord

from ..conftest import SEEDS
from .conftest import plain, running_bot
from .fake_discord.codes import EPHEMERAL, Callback

GUILD_A, GUILD_B = 1_200_000_000_000_000_000, 1_200_000_000_000_000_100
REFUGEES = "How many North Korean refugees has NAUH resettled?"
# A's document holds a word that makes the stand-in encoder as slow as a real model with a large file
SLOW_WORD = "zephyrine"
SLOW_DOC = f"Slow Ledger\n\nThe {SLOW_WORD} ledger lists every tide of the year.\n".encode()
SMALL_DOC = b"Note\n\nQuays at six.\n"  # 20 bytes
WAIT = 30  # a bound on what takes a second or two, and on how long the held work waits to be let go


@pytest_asyncio.fixture
async def two_servers():
    """The fake Discord with servers A and B: alice manages both, carol only B, bob neither."""
    async with FakeDiscord(guild_ids=(GUILD_A, GUILD_B)) as fake:
        fake.add_manager("carol", GUILD_B)
        yield fake


@pytest.fixture
def shared(fast_retriever: Retriever, tmp_path: Path) -> Iterator[tuple[RetrievalConfig, Retriever]]:
    sources = Path(shutil.copytree(SEEDS, tmp_path / "sources"))
    config = RetrievalConfig(sources=sources, index=tmp_path / "index")
    yield config, open_retriever(config, progress=False, encoder=fast_retriever.encoder)


def users(fake: FakeDiscord) -> dict[str, int]:
    alice, bob, carol = fake.human_ids
    return {"alice": alice, "bob": bob, "carol": carol}


async def run(fake: FakeDiscord, name: str, options: dict, who: int, guild: int) -> str:
    """A command's reply text in #general of `guild`: its content and embeds; a manager's command's, private."""
    handle = await fake.send_interaction(name, options, user=who, channel_id=fake.channel_id("general", guild))
    response = await handle.wait_response()
    if response["type"] == Callback.CHANNEL_MESSAGE:  # answered at once
        done = response["data"]
    else:
        (done,) = await handle.wait_followups(1, timeout=WAIT)
    if name != "ask":
        assert done["flags"] & EPHEMERAL
    return " ".join([done.get("content") or "", *(
        f"{e.get('title', '')} {plain(e.get('description', ''))} {e.get('footer', {}).get('text', '')}"
        for e in done.get("embeds", []))]).strip()


async def add(fake: FakeDiscord, who: int, guild: int, name: str, data: bytes) -> str:
    return await run(fake, "add-source", {"document": fake.upload(name, data)}, who, guild)


class SlowOnWord:
    """The encoder, held on texts holding SLOW_WORD while `slow` is set, until the test sets `release` (WAIT s at
    most): `busy` is set while it is held, `done` once it is let go. Held, not slept, so a heavy job lasts exactly
    as long as the test needs it to, on a quiet machine or a loaded one."""

    def __init__(self, encoder, monkeypatch: pytest.MonkeyPatch) -> None:
        self.slow, self.busy, self.done = threading.Event(), threading.Event(), threading.Event()
        self.release = threading.Event()
        encode = encoder.encode

        def slowed(texts, on_batch=None):
            if self.slow.is_set() and any(SLOW_WORD in text for text in texts):
                self.busy.set()
                self.release.wait(WAIT)
                self.done.set()
            return encode(texts, on_batch)

        monkeypatch.setattr(encoder, "encode", slowed)


@pytest.mark.asyncio
async def test_one_servers_heavy_add_never_holds_up_anothers_small_one(two_servers, shared, monkeypatch):
    fake = two_servers
    config, retriever = shared
    u = users(fake)
    async with running_bot(fake, retriever, retrieval=config) as bot:
        slow = SlowOnWord(bot.service.libraries.encoder, monkeypatch)
        slow.slow.set()
        heavy = await fake.send_interaction("add-source", {"document": fake.upload("ledger.txt", SLOW_DOC)},
                                            user=u["alice"], channel_id=fake.channel_id("general", GUILD_A))
        await asyncio.get_running_loop().run_in_executor(None, slow.busy.wait, WAIT)
        small = await add(fake, u["carol"], GUILD_B, "note.txt", SMALL_DOC)
        assert not heavy.followups and not slow.done.is_set()  # A's is still being indexed
        slow.release.set()
        (done,) = await heavy.wait_followups(1, timeout=WAIT)
    assert small.startswith("Added `note`")
    assert done["content"].startswith("Added `ledger`")


@pytest.mark.asyncio
async def test_a_word_file_of_200000_one_word_paragraphs_is_refused_at_once(two_servers, shared, tmp_path: Path):
    fake = two_servers
    config, retriever = shared
    hostile = many_paragraphs_docx(tmp_path / "tides.docx", 200_000).read_bytes()
    async with running_bot(fake, retriever, retrieval=config) as bot:
        began = time.perf_counter()
        refused = await add(fake, users(fake)["alice"], GUILD_A, "tides.docx", hostile)  # waits WAIT s at most
        took = time.perf_counter() - began
        assert not bot.service.libraries.has_library(GUILD_A)
    assert refused.startswith("The document was not added: tides.docx was not added: holds 200,001 paragraphs with "
                              "text, over the 50,000 passages one document may give")
    assert "passages" in refused and "retrieval.reading" in refused and "split it into several files" in refused
    assert took < WAIT  # on a loaded machine too; alone it took about a second (BENCHMARKS.md)


@pytest.mark.asyncio
async def test_a_damaged_library_is_rebuilt_in_the_background_while_the_shared_one_answers(
        two_servers, shared, monkeypatch):
    fake = two_servers
    config, retriever = shared
    u = users(fake)
    async with running_bot(fake, retriever, retrieval=config) as bot:
        await add(fake, u["alice"], GUILD_A, "ledger.txt", SLOW_DOC)
        await add(fake, u["carol"], GUILD_B, "note.txt", SMALL_DOC)
        libraries = bot.service.libraries
        (vectors,) = (config.index / "servers" / str(GUILD_A)).rglob("embeddings.npy")
        vectors.write_bytes(vectors.read_bytes()[:100])  # truncated: its vectors cannot be reused either
        libraries.forget(GUILD_A)  # closed, as the least recently used is
        slow = SlowOnWord(libraries.encoder, monkeypatch)
        slow.slow.set()
        question = "Which ledger lists every tide of the year?"
        in_a = await run(fake, "ask", {"question": question, "count": 3}, u["bob"], GUILD_A)
        in_b = await run(fake, "ask", {"question": REFUGEES, "count": 1}, u["bob"], GUILD_B)
        assert not slow.done.is_set()  # both answered while A's library was still being rebuilt
        slow.release.set()
        await fake.wait_until(lambda: not libraries.repairs(GUILD_A), WAIT, "A's library rebuilt")
        again = await run(fake, "ask", {"question": question, "count": 3}, u["bob"], GUILD_A)
    assert in_a.startswith("This server's own documents are being indexed again, so this answer comes from the "
                           "shared sources only")
    assert "Added by this server" not in in_a and "North Korean" in in_b
    assert "lists every tide" in again and "Added by this server" in again and "being indexed" not in again


@pytest.mark.asyncio
async def test_a_stop_during_an_add_tells_the_manager_what_became_of_the_document(fake: FakeDiscord, shared,
                                                                                  monkeypatch):
    config, retriever = shared
    async with running_bot(fake, retriever, retrieval=config, stop_grace_seconds=0.2) as bot:
        slow = SlowOnWord(bot.service.libraries.encoder, monkeypatch)
        slow.slow.set()
        handle = await fake.send_interaction("add-source", {"document": fake.upload("ledger.txt", SLOW_DOC)})
        await asyncio.get_running_loop().run_in_executor(None, slow.busy.wait, WAIT)
        bot.stop_on_signal(signal.SIGTERM)
        await handle.wait_followups(1, timeout=WAIT)  # told while its document is still being indexed
        slow.release.set()
        await asyncio.wait_for(bot.stopping, WAIT)
        libraries = bot.service.libraries
    (told,) = handle.followups
    assert told["content"].startswith("The bot is restarting while ledger.txt was being added to this server's "
                                      "sources: it finishes that before it stops")
    assert libraries.has_index(fake.guild_id)  # and it did, before the process would exit
    assert not list(libraries.documents_folder(fake.guild_id).glob(".indexing-*"))
