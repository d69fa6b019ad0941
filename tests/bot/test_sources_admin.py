"""Managers change their server's own sources from Discord: /add-source indexes a file at once, /remove-source
takes one out, /reindex names the files it could not read. Everyone else is refused. (Two servers apart:
test_server_libraries.py.)"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cogs.admin import NOT_INDEXED_ADDED, NOT_INDEXED_REMOVED
from retrieval import RetrievalConfig, Retriever, open_retriever
from retrieval.benchmarks.milvus_lite import MilvusServer
from retrieval.benchmarks.uploads import slow_pdf, word_bomb
from retrieval.settings import ReadSettings
from retrieval.store import index

from ..conftest import SEEDS
from ..support.documents import make_docx, report_pdf
from .conftest import plain, running_bot
from .fake_discord.codes import EPHEMERAL, Callback

MODERATOR, MEMBER = 0, 1  # fake.human_ids: alice has Manage Server, bob has not


@pytest.fixture
def own_index(fast_retriever: Retriever, tmp_path: Path) -> tuple[RetrievalConfig, Retriever]:
    """A copy of the seeds and an index of them that a test may change."""
    sources = Path(shutil.copytree(SEEDS, tmp_path / "sources"))
    config = RetrievalConfig(sources=sources, index=tmp_path / "index")
    return config, open_retriever(config, progress=False, encoder=fast_retriever.encoder)


async def command(fake, name: str, options: dict, user: int = MODERATOR) -> str:
    """Run a manager's command; the text of its private answer."""
    handle = await fake.send_interaction(name, options, user=fake.human_ids[user])
    response = await handle.wait_response()
    if response["type"] == Callback.CHANNEL_MESSAGE:  # answered at once (a refusal)
        assert response["data"]["flags"] & EPHEMERAL
        return response["data"]["content"]
    (done,) = await handle.wait_followups(1, timeout=30)
    assert handle.ephemeral and done["flags"] & EPHEMERAL
    return done["content"]


async def best_answer(fake, question: str) -> str:
    handle = await fake.send_interaction("ask", {"question": question, "count": 1})
    (answer,) = await handle.wait_followups(1, timeout=10)
    return plain(answer["embeds"][0]["description"]) + " " + answer["embeds"][0]["title"]


@pytest.mark.asyncio
async def test_an_added_pdf_answers_at_once_with_its_page(fake, own_index, tmp_path: Path):
    config, retriever = own_index
    pdf = report_pdf(tmp_path / "made.pdf").read_bytes()
    async with running_bot(fake, retriever, retrieval=config) as bot:
        upload = fake.upload("Rivers of the North.pdf", pdf, "application/pdf")
        text = await command(fake, "add-source", {"document": upload})
        assert text.startswith("Added `rivers-of-the-north`, **Rivers of the North**, to this server's own sources")
        assert "answering now in this server only" in text and "1 sources" in text
        own = bot.service.config.server_sources / str(fake.guild_id)
        assert (own / "rivers-of-the-north.pdf").read_bytes() == pdf
        answer = await best_answer(fake, "When did the count reach twelve thousand fish a season?")
        docx = make_docx(tmp_path / "ferry.docx").read_bytes()
        second = await command(fake, "add-source", {"document": fake.upload("ferry.docx", docx)})
    assert "twelve thousand fish" in answer and "p. 3" in answer
    assert "passages from 2 sources" in second
    added = int(re.search(r": (\d+) passages, answering", second)[1])
    total, embedded = map(int, re.search(r"(\d+) passages from 2 sources \((\d+) embedded", second).groups())
    assert embedded == added < total  # a server's library is built incrementally: only the new file
    assert sorted(p.name for p in config.sources.iterdir()) == sorted(p.name for p in SEEDS.iterdir())
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_word_file_is_added_and_then_removed(fake, own_index, tmp_path: Path):
    config, retriever = own_index
    docx = make_docx(tmp_path / "ferry.docx").read_bytes()
    async with running_bot(fake, retriever, retrieval=config) as bot:
        text = await command(fake, "add-source", {"document": fake.upload("ferry.docx", docx)})
        assert text.startswith("Added `ferry`, **Ferry Crossings**")
        assert "ferry" in (await bot.service.library(fake.guild_id)).sources
        text = await command(fake, "remove-source", {"id": "ferry"})
        assert text.startswith("Removed `ferry` from this server's sources; its file is kept aside as ferry.docx.")
        assert "ferry" not in (await bot.service.library(fake.guild_id)).sources
    own = bot.service.config.server_sources / str(fake.guild_id)
    assert (own / ".removed" / "ferry.docx").read_bytes() == docx  # nothing lost
    assert not (own / "ferry.docx").exists()


@pytest.mark.asyncio
async def test_members_without_manage_server_are_refused(fake, own_index):
    config, retriever = own_index
    async with running_bot(fake, retriever, retrieval=config) as bot:
        upload = fake.upload("note.txt", b"Note\n\nA note about harbours.\n")
        added = await command(fake, "add-source", {"document": upload}, user=MEMBER)
        removed = await command(fake, "remove-source", {"id": "park-hero"}, user=MEMBER)
        assert bot.service.retriever.get() is retriever
    assert added == "Only members with the Manage Server permission can add sources."
    assert removed == "Only members with the Manage Server permission can remove sources."
    assert sorted(p.name for p in config.sources.iterdir()) == sorted(p.name for p in SEEDS.iterdir())
    registered = {c["name"]: c for c in fake.commands}
    for name in ("add-source", "remove-source", "reindex"):  # Discord hides them from others too
        assert int(registered[name]["default_member_permissions"]) == 1 << 5  # Manage Server
        assert registered[name]["contexts"] == [0]  # servers only


@pytest.mark.asyncio
async def test_bad_files_and_ids_get_a_private_reason(fake, own_index):
    config, retriever = own_index
    async with running_bot(fake, retriever, retrieval=config) as bot:
        configured = bot.service.config
        bot.service.config = replace(configured, max_upload_mb=0.01)
        big = await command(fake, "add-source", {"document": fake.upload("big.txt", b"T\n\n" + b"word " * 4000)})
        bot.service.config = configured
        broken = await command(fake, "add-source", {"document": fake.upload("report.pdf", b"%PDF-1.7 broken")})
        kind = await command(fake, "add-source", {"document": fake.upload("tool.exe", b"MZ")})
        clash = await command(fake, "add-source", {"document": fake.upload("Park-Hero.txt", b"T\n\nText here.\n")})
        unknown = await command(fake, "remove-source", {"id": "nope"})
        await command(fake, "add-source", {"document": fake.upload("note.txt", b"Note\n\nA note on harbours.\n")})
        unknown_here = await command(fake, "remove-source", {"id": "nope"})
        listed = await command(fake, "remove-source", {"id": "park-hero"})
        assert bot.service.retriever.get() is retriever  # nothing was rebuilt
    assert big.startswith("That file is 0.0 MB; the sources take files up to 0.01 MB.")
    assert broken.startswith("The document was not added: report.pdf was not added: ")
    assert "is not a kind of document the sources can hold" in kind
    assert "a source with id 'park-hero' is already in the sources" in clash
    assert unknown == ("Nothing was removed: this server has added no documents of its own; the shared sources "
                       "are the bot operator's")
    assert unknown_here == "Nothing was removed: no document with id 'nope' in the sources"
    assert "is one of the shared sources, which every server reads and only the bot's operator changes" in listed
    assert sorted(p.name for p in config.sources.iterdir()) == sorted(p.name for p in SEEDS.iterdir())


@pytest.mark.asyncio
async def test_reindex_names_the_files_it_left_out(fake, own_index):
    config, retriever = own_index
    async with running_bot(fake, retriever, retrieval=config) as bot:
        nothing = await command(fake, "reindex", {})
        await command(fake, "add-source", {"document": fake.upload("note.txt", b"Note\n\nA note on harbours.\n")})
        (bot.service.config.server_sources / str(fake.guild_id) / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
        text = await command(fake, "reindex", {})
    assert nothing.startswith("This server has added no documents of its own, so there is nothing of its own")
    assert "This server's library rebuilt and in use: 1 passages from 1 sources" in text
    assert "1 file(s) could not be read and were left out:\n- scan.pdf: " in text


@pytest.mark.asyncio
async def test_hostile_uploads_are_refused_privately_with_the_bound_they_met(fake, own_index, tmp_path: Path):
    config, retriever = own_index
    config = replace(config, reading=ReadSettings(seconds=0.5))
    bomb = word_bomb(tmp_path / "bomb.docx", 8_000_000).read_bytes()
    slow = slow_pdf(tmp_path / "slow.pdf", 3, 20_000).read_bytes()
    async with running_bot(fake, retriever, retrieval=config) as bot:
        bombed = await command(fake, "add-source", {"document": fake.upload("bomb.docx", bomb)})
        stalled = await command(fake, "add-source", {"document": fake.upload("slow.pdf", slow, "application/pdf")})
        look_alike = await command(fake, "add-source", {"document": fake.upload("\u0440\u0430rk-hero.txt",
                                                                                b"Park\n\nText here.\n")})
        assert bot.service.retriever.get() is retriever  # nothing was rebuilt
    assert bombed.startswith("The document was not added: bomb.docx was not added: holds a part")
    assert "as zip bombs do" in bombed
    assert stalled.startswith("The document was not added: slow.pdf was not added: took more than 0.5 s to read")
    assert "mixes letters of 2 scripts" in look_alike
    assert sorted(p.name for p in config.sources.iterdir()) == sorted(p.name for p in SEEDS.iterdir())
    assert fake.violations == []


def warnings_naming(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and text in r.getMessage()]


@pytest.mark.asyncio
async def test_changes_while_milvus_is_down_tell_managers_what_to_do_and_only_the_log_where(
        fake, fast_retriever: Retriever, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    server = MilvusServer(tmp_path / "milvus")
    config = RetrievalConfig(sources=SEEDS, store="milvus", milvus_uri=server.url)
    with server:
        retriever = await asyncio.to_thread(open_retriever, config, progress=False, encoder=fast_retriever.encoder)
        async with running_bot(fake, retriever, retrieval=config):
            first = await command(fake, "add-source", {"document": fake.upload("note.txt", b"Note\n\nHarbours.\n")})
            assert first.startswith("Added `note`")
            server.stop()  # Milvus is down from here on
            added = await command(fake, "add-source", {"document": fake.upload("tides.txt", b"Tides\n\nTables.\n")})
            rebuilt = await command(fake, "reindex", {})
            removed = await command(fake, "remove-source", {"id": "note"})
    told = [added, rebuilt, removed]
    assert not any("127.0.0.1" in text or str(server.port) in text or "Milvus" in text for text in told)
    assert added.startswith(NOT_INDEXED_ADDED) and removed.startswith(NOT_INDEXED_REMOVED)
    assert rebuilt.startswith("This server's library was not rebuilt")
    assert all("whoever runs the bot" in text for text in told)  # what a manager can do: tell them
    assert len(warnings_naming(caplog, server.url)) >= 3  # where it failed is for the operator, in the log
    assert fake.violations == []


@pytest.mark.asyncio
async def test_a_full_disk_or_a_damaged_folder_is_told_without_the_bots_paths(fake, own_index, monkeypatch,
                                                                             caplog: pytest.LogCaptureFixture):
    config, retriever = own_index
    write_bytes = Path.write_bytes

    def disk_full(path: Path, data: bytes) -> int:
        if "server-sources" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write_bytes(path, data)

    def index_disk_full(folder: Path, *args) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder))

    async with running_bot(fake, retriever, retrieval=config) as bot:
        folder = bot.service.config.server_sources / str(fake.guild_id)
        await command(fake, "add-source", {"document": fake.upload("note.txt", b"Note\n\nA note on harbours.\n")})
        with monkeypatch.context() as patched:
            patched.setattr(Path, "write_bytes", disk_full)
            full = await command(fake, "add-source", {"document": fake.upload("tides.txt", b"Tides\n\nTables.\n")})
        with monkeypatch.context() as patched:  # the document is saved; the disk fills as its index is written
            patched.setattr(index, "write_build", index_disk_full)
            unindexed = await command(fake, "add-source", {"document": fake.upload("fish.txt", b"Fish\n\nCod.\n")})
        (folder / "fish.txt").unlink()
        (folder / "note.txt").rename(folder / "scan.pdf")  # by hand: the only document is now unreadable
        damaged = await command(fake, "reindex", {})
    internal = str(bot.service.config.server_sources.parent)
    assert full.startswith("The document was not added: the bot could not save tides.txt")
    assert "No space left on device" in full and "whoever runs the bot" in full
    assert unindexed == f"{NOT_INDEXED_ADDED}: the index could not be written (No space left on device); tell " \
        "whoever runs the bot"
    assert damaged.startswith("This server's library was not rebuilt: no document in it can be read")
    assert "scan.pdf" in damaged
    assert all(internal not in text for text in (full, unindexed, damaged))
    assert warnings_naming(caplog, str(folder))  # the log has the paths
