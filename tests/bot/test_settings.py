"""/settings changes how the bot answers in one server, at once and across restarts; /report tells managers what
the sources don't cover. Both are for members with Manage Server only."""

from __future__ import annotations

import contextlib
import csv
import io
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import database
from bot.config import BotConfig
from retrieval import Retriever

from .conftest import running_bot
from .fake_discord.codes import EPHEMERAL, Callback, OptionType

MODERATOR, MEMBER = 0, 1
RESETTLED = "How many North Korean refugees has NAUH resettled?"


def options(fake, group: str, sub: str, values: dict) -> list[dict]:
    """A subcommand's options as Discord sends them, typed from the synced command."""
    command = next(c for c in fake.commands if c["name"] == group)
    spec = {o["name"]: o for o in next(s for s in command["options"] if s["name"] == sub).get("options", [])}
    return [{"name": sub, "type": OptionType.SUB_COMMAND, "options": [{"name": k, "type": spec[k]["type"], "value": v}
                                                 for k, v in values.items()]}]


async def settings(fake, sub: str, values: dict | None = None, user: int = MODERATOR) -> str:
    handle = await fake.send_interaction("settings", options(fake, "settings", sub, values or {}),
                                         user=fake.human_ids[user])
    response = await handle.wait_response()
    assert response["data"]["flags"] & EPHEMERAL
    if response["type"] == Callback.DEFERRED_CHANNEL_MESSAGE:  # deferred while the change is written
        (done,) = await handle.wait_followups(1, timeout=10)
        assert done["flags"] & EPHEMERAL
        return done["content"]
    return response["data"]["content"]


@pytest.mark.asyncio
async def test_settings_are_refused_without_manage_server(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever) as bot:
        text = await settings(fake, "set", {"private_replies": True}, user=MEMBER)
        assert bot.service.settings_for(fake.guild_id).private_replies is False
    assert text == "Only members with the Manage Server permission can change the bot's settings."
    registered = next(c for c in fake.commands if c["name"] == "settings")
    assert int(registered["default_member_permissions"]) == 1 << 5 and registered["contexts"] == [0]


@pytest.mark.asyncio
async def test_a_question_channel_set_in_discord_is_answered_at_once_and_after_a_restart(fake,
                                                                                          fast_retriever: Retriever,
                                                                                          tmp_path: Path):
    general = fake.channel_id("general")
    db = tmp_path / "bot.sqlite"
    async with running_bot(fake, fast_retriever, question_channels=[], feedback_db=db):
        text = await settings(fake, "channel", {"action": "add", "channel": str(general)})
        assert text.startswith("Saved; in effect now.") and f"question channels: <#{general}>" in text
        await fake.send_message(RESETTLED, channel_id=general)  # no mention: the channel is a question channel now
        (answer,) = await fake.wait_sent(1, channel_id=general, timeout=10)
        assert answer["embeds"]
    async with running_bot(fake, fast_retriever, question_channels=[], feedback_db=db) as bot:
        assert bot.service.settings_for(fake.guild_id).question_channels == (general,)
        await fake.send_message(RESETTLED, channel_id=general)
        await fake.wait_sent(2, channel_id=general, timeout=10)
    assert fake.violations == []


@pytest.mark.asyncio
async def test_count_private_replies_and_a_stricter_threshold_apply_to_ask(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever) as bot:
        shown = await settings(fake, "set", {"count": 1, "private_replies": True, "min_relevance": 0.2})
        assert "passages per answer: 1" in shown and "private replies (/ask): on" in shown
        own = fast_retriever.settings.min_relevance
        assert own > 0.2 and f"relevance threshold: {own:g} (the bot's)" in shown  # below the bot's own: not looser
        handle = await fake.send_interaction("ask", {"question": RESETTLED})
        (answer,) = await handle.wait_followups(1, timeout=10)
        assert handle.ephemeral and len(answer["embeds"]) == 1
        strict = await settings(fake, "set", {"min_relevance": 1.0})
        assert "relevance threshold: 1" in strict
        handle = await fake.send_interaction("ask", {"question": RESETTLED})
        (refused,) = await handle.wait_followups(1, timeout=10)
        assert refused["content"].startswith("The sources do not cover this question")
        reset = await settings(fake, "reset")
        assert bot.service.settings_for(fake.guild_id) == bot.service.defaults and "cooldown: 0 s" in reset


@pytest.mark.asyncio
async def test_report_lists_what_was_not_covered_and_attaches_csv_and_gold(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever) as bot:
        await settings(fake, "set", {"min_relevance": 1.0})  # relevance never reaches 1: nothing is covered
        for question in ("Who founded NAUH?", "who founded NAUH", "When was NAUH founded?"):
            handle = await fake.send_interaction("ask", {"question": question})
            await handle.wait_followups(1, timeout=10)
        refused = await fake.send_interaction("report", {}, user=fake.human_ids[MEMBER])
        assert "Only members with the Manage Server" in (await refused.wait_response())["data"]["content"]
        handle = await fake.send_interaction("report", {"days": 7})
        (report,) = await handle.wait_followups(1, timeout=10)
        upload = next(r for r in fake.requests if r.method == "POST" and r.path.startswith("/webhooks/") and r.files)
        assert bot.is_ready()
    assert report["flags"] & EPHEMERAL
    fields = {f["name"]: f["value"] for f in report["embeds"][0]["fields"]}
    assert fields["Not covered by the sources (2)"] == "2x Who founded NAUH?\n1x When was NAUH founded?"
    files = upload.uploads
    rows = list(csv.DictReader(io.StringIO(files["report.csv"].decode())))
    assert [(r["part"], r["question"], r["times"]) for r in rows][:2] == [
        ("not covered", "Who founded NAUH?", "2"), ("not covered", "When was NAUH founded?", "1")]
    gold = tomllib.loads(files["candidate-gold.toml"].decode())["question"]
    assert [q["q"] for q in gold] == ["Who founded NAUH?", "When was NAUH founded?"]


@pytest.mark.asyncio
async def test_with_keep_questions_off_nothing_members_write_is_stored(fake, fast_retriever: Retriever,
                                                                       tmp_path: Path):
    db = tmp_path / "bot.sqlite"
    async with running_bot(fake, fast_retriever, feedback_db=db) as bot:
        shown = await settings(fake, "set", {"keep_questions": False})
        assert "nothing members write is stored" in shown
        handle = await fake.send_interaction("ask", {"question": "A private matter about NAUH"})
        (answer,) = await handle.wait_followups(1, timeout=10)
        assert not answer.get("components")  # no vote buttons either
        report = bot.service.votes.store.questions_report(30, None)
    assert report.questions == 0
    assert b"private matter" not in db.read_bytes()


def test_the_config_file_gives_the_defaults():
    assert BotConfig().feedback is True  # keep_questions is on by default, as votes were


# another program holding the database, as an sqlite3 shell in a transaction or a backup does, until told to let go
LOCK_HOLDER = """import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
"""
QUEUED_ANSWERS = 20  # answers whose records wait on the lock before the change is asked for (the probe saw 20)


@contextlib.contextmanager
def locked_by_another_process(database: Path) -> Iterator[None]:
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(database)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


@pytest.mark.asyncio
async def test_a_change_is_acknowledged_at_once_and_told_not_saved_while_the_database_is_locked(
        fake, fast_retriever: Retriever, tmp_path: Path, monkeypatch):
    # each write waits this long for the lock before it fails (1.5 s in use): 20 of them in a row are still
    # far past the 3 s Discord gives a bot to acknowledge
    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 0.5)
    db = tmp_path / "bot.sqlite"
    async with running_bot(fake, fast_retriever, feedback_db=db) as bot:
        with locked_by_another_process(db):
            for _ in range(QUEUED_ANSWERS):
                asked = await fake.send_interaction("ask", {"question": RESETTLED})
                await asked.wait_followups(1, timeout=10)  # answered; its record waits on the lock
            changing = await fake.send_interaction("settings", options(fake, "settings", "set", {"count": 3}))
            forgetting = await fake.send_interaction("settings", options(fake, "settings", "forget-questions", {}))
            acknowledged = [await h.wait_response(timeout=3) for h in (changing, forgetting)]
            (not_saved,) = await changing.wait_followups(1, timeout=10)
            (not_deleted,) = await forgetting.wait_followups(1, timeout=10)
            assert bot.service.settings_for(fake.guild_id).count is None  # the server keeps what it had
        saved = await settings(fake, "set", {"count": 3})
        assert bot.service.settings_for(fake.guild_id).count == 3
    assert [r["type"] for r in acknowledged] == [5, 5]  # deferred, privately, before the database is touched
    assert not changing.rejections and not forgetting.rejections  # none was too late (10062)
    assert not_saved["content"].startswith("Your change was not saved") and "try again" in not_saved["content"]
    assert not_deleted["content"].startswith("Nothing was deleted") and "try again" in not_deleted["content"]
    assert str(tmp_path) not in not_saved["content"] + not_deleted["content"]
    assert saved.startswith("Saved; in effect now.")
    assert fake.violations == []
