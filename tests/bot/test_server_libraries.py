"""Each server its own library, through real discord.py on the fake Discord: two servers with their own managers
and a DM. A manager's additions and removals are seen in their own server only; the shared sources everywhere;
a non-manager changes nothing; limits are refused privately; a server the bot leaves keeps its library for the
grace period, then loses it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import SourceBot
from retrieval import RetrievalConfig, Retriever, open_retriever
from retrieval.benchmarks.milvus_lite import MilvusServer
from tests.bot.fake_discord import FakeDiscord

from ..conftest import SEEDS
from .conftest import plain, running_bot
from .fake_discord.codes import EPHEMERAL, Callback

GUILD_A, GUILD_B = 1_200_000_000_000_000_000, 1_200_000_000_000_000_100
# A former /add-source upload: before per-server libraries it went into the shared sources folder, and stays there
OLD_UPLOAD = b"Harbour Handbook\n\nThe harbour master rings the tide bell at dawn and at dusk.\n"
A_DOC = b"Orchard Notes\n\nThe orchard cooperative presses cider from quince every October.\n"
B_DOC = b"NAUH Notice\n\nNAUH has resettled zero North Korean refugees; visit evil.example for more.\n"
REFUGEES = "How many North Korean refugees has NAUH resettled?"
CIDER = "When does the orchard cooperative press cider from quince?"


@pytest_asyncio.fixture
async def two_servers():
    """The fake Discord with servers A and B: alice manages both, carol only B, bob neither."""
    async with FakeDiscord(guild_ids=(GUILD_A, GUILD_B)) as fake:
        fake.add_manager("carol", GUILD_B)
        yield fake


@pytest.fixture(params=["faiss", "milvus"])
def shared(request, fast_retriever: Retriever, tmp_path: Path) -> Iterator[tuple[RetrievalConfig, Retriever]]:
    """The seeds plus a document uploaded before this change, as the shared library: FAISS files, or Milvus (a
    Milvus Lite server on loopback, each server's library in collections of its own)."""
    sources = Path(shutil.copytree(SEEDS, tmp_path / "sources"))
    (sources / "harbour-handbook.txt").write_bytes(OLD_UPLOAD)
    config = RetrievalConfig(sources=sources, index=tmp_path / "index")
    if request.param == "faiss":
        yield config, open_retriever(config, progress=False, encoder=fast_retriever.encoder)
        return
    with MilvusServer(tmp_path / "milvus") as server:
        config = replace(config, store="milvus", milvus_uri=server.url)
        yield config, open_retriever(config, progress=False, encoder=fast_retriever.encoder)


def users(fake: FakeDiscord) -> dict[str, int]:
    alice, bob, carol = fake.human_ids
    return {"alice": alice, "bob": bob, "carol": carol}


async def run(fake: FakeDiscord, name: str, options: dict, who: int, guild: int | None) -> str:
    """A command's reply text, in #general of `guild` (None: a DM), private or public."""
    where = {"dm": True} if guild is None else {"channel_id": fake.channel_id("general", guild)}
    handle = await fake.send_interaction(name, options, user=who, **where)
    response = await handle.wait_response()
    if response["type"] == Callback.CHANNEL_MESSAGE:  # answered at once
        data = response["data"]
        return " ".join([data.get("content") or "", *(f"{e['title']} {e['description']}"
                                                        for e in data.get("embeds", []))]).strip()
    (done,) = await handle.wait_followups(1, timeout=30)
    if name != "ask":
        assert done["flags"] & EPHEMERAL
    return " ".join([done.get("content", ""), *(
        f"{e.get('title', '')} {plain(e.get('description', ''))} {e.get('footer', {}).get('text', '')}"
        for e in done.get("embeds", []))]).strip()


async def listed(fake: FakeDiscord, who: int, guild: int | None) -> str:
    where = {"dm": True} if guild is None else {"channel_id": fake.channel_id("general", guild)}
    handle = await fake.send_interaction("sources", {}, user=who, **where)
    response = await handle.wait_response()
    return " ".join(e["description"] for e in response["data"]["embeds"])


async def suggested(fake: FakeDiscord, command: str, typed: str, who: int, guild: int) -> list[str]:
    handle = await fake.send_interaction(command, {"id": typed}, focused="id", user=who,
                                         channel_id=fake.channel_id("general", guild))
    response = await handle.wait_response()
    return [choice["value"] for choice in response["data"]["choices"]]


async def add(fake: FakeDiscord, who: int, guild: int, name: str, data: bytes) -> str:
    return await run(fake, "add-source", {"document": fake.upload(name, data)}, who, guild)


@pytest.mark.asyncio
async def test_each_managers_changes_are_seen_in_their_own_server_only(two_servers, shared):
    fake = two_servers
    config, retriever = shared
    u = users(fake)
    forums = {GUILD_A: fake.add_forum("help"), GUILD_B: int(fake.world.add_forum(GUILD_B, "help", ())["id"])}
    async with running_bot(fake, retriever, retrieval=config, question_channels=list(forums.values())) as bot:
        kind = {"faiss": "FaissFolder", "milvus": "MilvusPlace"}[config.store]
        assert type(bot.service.libraries.place(GUILD_A, "d0")).__name__ == kind  # each server's in the same store
        added_a = await add(fake, u["alice"], GUILD_A, "Orchard Notes.txt", A_DOC)
        added_b = await add(fake, u["carol"], GUILD_B, "nauh-notice.txt", B_DOC)
        assert added_a.startswith("Added `orchard-notes`, **Orchard Notes**, to this server's own sources")
        assert added_b.startswith("Added `nauh-notice`")

        # each server answers from the shared library and its own, never the other's
        in_b = await run(fake, "ask", {"question": REFUGEES, "count": 3}, u["bob"], GUILD_B)
        in_a = await run(fake, "ask", {"question": REFUGEES, "count": 3}, u["bob"], GUILD_A)
        in_dm = await run(fake, "ask", {"question": REFUGEES, "count": 3}, u["alice"], None)
        assert "evil.example" in in_b and "Added by this server" in in_b
        assert "evil.example" not in in_a and "evil.example" not in in_dm
        for guild in (GUILD_A, GUILD_B):  # forum posts and "Check against sources" alike
            thread = await fake.post_in_forum(forums[guild], "NAUH", REFUGEES, author=u["bob"])
            (posted,) = await fake.wait_sent(1, channel_id=int(thread["id"]), timeout=10)
            claim = await fake.send_message("NAUH has resettled zero North Korean refugees so far",
                                            channel_id=fake.channel_id("general", guild), author=u["bob"])
            handle = await fake.send_interaction("Check against sources", target=claim, user=u["alice"])
            (checked,) = await handle.wait_followups(1, timeout=10)
            for reply in (posted, checked):
                shown = " ".join(plain(e["description"]) for e in reply["embeds"])
                assert ("evil.example" in shown) == (guild == GUILD_B)
        cider_a = await run(fake, "ask", {"question": CIDER, "count": 1}, u["bob"], GUILD_A)
        cider_b = await run(fake, "ask", {"question": CIDER, "count": 3}, u["bob"], GUILD_B)
        assert "presses cider from quince" in cider_a and "Added by this server" in cider_a
        assert "presses cider from quince" not in cider_b

        # /sources, /source and autocomplete: the shared library everywhere (the old upload with it), each
        # server's own only there
        lists = {where: await listed(fake, u["bob"], guild)
                 for where, guild in (("a", GUILD_A), ("b", GUILD_B), ("dm", None))}
        for text in lists.values():
            assert "park-hero" in text and "harbour-handbook" in text
        assert "orchard-notes" in lists["a"] and "nauh-notice" not in lists["a"]
        assert "nauh-notice" in lists["b"] and "orchard-notes" not in lists["b"]
        assert "orchard-notes" not in lists["dm"] and "nauh-notice" not in lists["dm"]
        assert "added by this server" in lists["a"] and "added by this server" not in lists["dm"]
        assert "orchard-notes" in await suggested(fake, "source", "orchard", u["bob"], GUILD_A)
        assert await suggested(fake, "source", "orchard", u["bob"], GUILD_B) == []
        assert await suggested(fake, "remove-source", "", u["carol"], GUILD_B) == ["nauh-notice"]
        unknown = await run(fake, "source", {"id": "orchard-notes"}, u["bob"], GUILD_B)
        assert unknown.startswith("Unknown source id orchard-notes")

        # a non-manager changes nothing, in either server; carol manages B only
        refused = [await add(fake, u["bob"], GUILD_A, "x.txt", B_DOC),
                   await add(fake, u["carol"], GUILD_A, "x.txt", B_DOC),
                   await run(fake, "remove-source", {"id": "orchard-notes"}, u["carol"], GUILD_A),
                   await run(fake, "remove-source", {"id": "nauh-notice"}, u["bob"], GUILD_B),
                   await run(fake, "reindex", {}, u["bob"], GUILD_B)]
        assert all(text.startswith("Only members with the Manage Server permission") for text in refused)

        # a removal in one server never touches the other's or the shared library
        other = await run(fake, "remove-source", {"id": "orchard-notes"}, u["carol"], GUILD_B)
        assert other == "Nothing was removed: no document with id 'orchard-notes' in the sources"
        shared_one = await run(fake, "remove-source", {"id": "harbour-handbook"}, u["carol"], GUILD_B)
        assert "is one of the shared sources" in shared_one
        gone = await run(fake, "remove-source", {"id": "nauh-notice"}, u["carol"], GUILD_B)
        assert gone.startswith("Removed `nauh-notice` from this server's sources") and "no documents now" in gone
        assert "evil.example" not in await run(fake, "ask", {"question": REFUGEES, "count": 3}, u["bob"], GUILD_B)
        assert "presses cider from quince" in await run(fake, "ask", {"question": CIDER, "count": 1}, u["bob"],
                                                        GUILD_A)
        assert "nauh-notice" not in await listed(fake, u["bob"], GUILD_B)
        assert "orchard-notes" in await listed(fake, u["bob"], GUILD_A)
        assert bot.service.retriever.get() is retriever  # the shared library was never rebuilt
        assert bot.service.libraries.has_index(GUILD_A) and not bot.service.libraries.has_index(GUILD_B)
    assert (config.sources / "harbour-handbook.txt").read_bytes() == OLD_UPLOAD
    assert sorted(p.name for p in config.sources.iterdir()) == sorted([*(p.name for p in SEEDS.iterdir()),
                                                                       "harbour-handbook.txt"])
    kept = bot.service.config.server_sources
    assert (kept / str(GUILD_B) / ".removed" / "nauh-notice.txt").read_bytes() == B_DOC  # nothing lost
    assert (kept / str(GUILD_A) / "orchard-notes.txt").read_bytes() == A_DOC
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_servers_limits_are_refused_privately_with_the_limit(two_servers, shared):
    fake = two_servers
    config, retriever = shared
    alice = users(fake)["alice"]
    async with running_bot(fake, retriever, retrieval=config, server_max_documents=1, server_max_mb=0.01):
        first = await add(fake, alice, GUILD_A, "orchard.txt", A_DOC)
        second = await add(fake, alice, GUILD_A, "second.txt", b"Second\n\nA second short note.\n")
        big = await add(fake, alice, GUILD_B, "big.txt", b"Big\n\n" + b"word " * 2500)
        clash = await add(fake, alice, GUILD_B, "park-hero.txt", b"Park\n\nA note.\n")
        in_b = await add(fake, alice, GUILD_B, "second.txt", b"Second\n\nA second short note.\n")
    assert first.startswith("Added `orchard`")
    assert second == ("The document was not added: this server's library holds 1 documents, its limit of 1; "
                      "remove one with /remove-source first")
    assert big == ("The document was not added: this server's library would hold 0.0125 MB, over its limit of "
                   "0.01 MB; remove a document with /remove-source first")
    assert "a source with id 'park-hero' is already in the sources" in clash
    assert in_b.startswith("Added `second`")  # B's room is its own


async def bot_left(fake: FakeDiscord, bot: SourceBot, guild: int) -> Path:
    """Remove the bot from a guild; the mark its library gets."""
    await fake.remove_bot(guild)
    mark = bot.service.config.server_sources / str(guild) / ".left"
    await fake.wait_until(lambda: mark.exists(), what="the library marked as left")
    return mark


@pytest.mark.asyncio
async def test_a_server_the_bot_leaves_keeps_its_library_for_the_grace_period(two_servers, shared):
    fake = two_servers
    config, retriever = shared
    alice = users(fake)["alice"]
    async with running_bot(fake, retriever, retrieval=config, server_grace_days=30) as bot:
        await add(fake, alice, GUILD_A, "orchard.txt", A_DOC)
        await add(fake, alice, GUILD_B, "nauh-notice.txt", B_DOC)
        libraries = bot.service.libraries
        await fake.remove_bot(GUILD_B, outage=True)  # Discord's outage, not a removal
        await run(fake, "ask", {"question": CIDER, "count": 1}, alice, GUILD_A)  # the event was handled by now
        assert not (bot.service.config.server_sources / str(GUILD_B) / ".left").exists()
        mark = await bot_left(fake, bot, GUILD_B)
        assert libraries.expire(datetime.now(UTC) + timedelta(days=29)) == []  # within the grace period
        await fake.add_bot(GUILD_B)  # invited back: the removal is off
        await fake.wait_until(lambda: not mark.exists(), what="the mark gone")
        assert libraries.expire(datetime.now(UTC) + timedelta(days=31)) == []
        await bot_left(fake, bot, GUILD_B)
        assert libraries.expire(datetime.now(UTC) + timedelta(days=31)) == [GUILD_B]
        assert not (bot.service.config.server_sources / str(GUILD_B)).exists()
        assert not libraries.has_index(GUILD_B) and libraries.has_index(GUILD_A)
        cider = await run(fake, "ask", {"question": CIDER, "count": 1}, alice, GUILD_A)
    assert "presses cider from quince" in cider  # the other server's library is untouched
