"""Starting the bot: commands synced in setup_hook, and config or token mistakes stop it with a message."""

import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot import app
from bot.__main__ import resolve_token
from bot.app import create_bot
from bot.config import BotConfig
from bot.service import Service
from retrieval import ConfigError, Retriever

from ..conftest import PROJECT
from .conftest import running_bot
from .fake_discord.codes import CommandType, OptionType


@pytest.mark.asyncio
async def test_commands_are_synced_with_names_options_and_descriptions(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever):
        commands = {c["name"]: c for c in fake.commands}
        assert set(commands) == {"ask", "sources", "source", "reindex", "add-source", "remove-source",
                                 "Check against sources", "settings", "report"}
        assert int(commands["reindex"]["default_member_permissions"]) == 1 << 5  # Manage Server
        assert all(c["description"] for c in commands.values() if c["type"] == CommandType.CHAT_INPUT)  # slash commands
        ask = {o["name"]: o for o in commands["ask"]["options"]}
        assert ask["question"]["required"] is True and ask["question"]["max_length"] == 2000
        assert (ask["count"]["min_value"], ask["count"]["max_value"]) == (1, 25)
        assert ask["private"]["type"] == OptionType.BOOLEAN  # boolean
        source = {o["name"]: o for o in commands["source"]["options"]}
        assert source["id"]["autocomplete"] is True and source["paragraph"]["min_value"] == 1
        (document,) = commands["add-source"]["options"]
        assert document["type"] == OptionType.ATTACHMENT and document["required"] is True  # an attachment
    assert fake.violations == []


@pytest.mark.asyncio
async def test_the_service_is_held_by_async_with_around_the_client(fake, fast_retriever: Retriever, tmp_path: Path):
    config = BotConfig(feedback_db=tmp_path / "bot.sqlite", server_sources=tmp_path / "server-sources")
    async with Service(config, fast_retriever) as service:
        assert service.votes.store is not None and service.settings_store is not None  # open before any client
        async with fake.running(create_bot(service, guild_ready_timeout=0.05)):
            await fake.send_message("How many North Korean refugees has NAUH resettled?", mention_bot=True)
            (answer,) = await fake.wait_sent(1, timeout=10)
        service.votes.store.db.execute("SELECT 1")  # the client closed; the service is still its holder's
    assert answer["embeds"]
    with pytest.raises(sqlite3.ProgrammingError):  # closed on leaving the block, its records written first
        service.votes.store.db.execute("SELECT 1")
    assert sqlite3.connect(config.feedback_db).execute("SELECT COUNT(*) FROM answers").fetchone() == (1,)


@pytest.mark.asyncio
async def test_a_refused_token_ends_run_bot(fake, fast_retriever: Retriever, tmp_path: Path):
    config = BotConfig(feedback_db=tmp_path / "bot.sqlite", server_sources=tmp_path / "server-sources")
    with pytest.raises(discord.LoginFailure):  # what `python -m bot` turns into "Discord refused the token"
        await app.run_bot(config, fast_retriever, None, "not-the-token", guild_ready_timeout=0.05)


@pytest.mark.asyncio
async def test_commands_can_sync_to_listed_guilds_only(fake, fast_retriever: Retriever):
    async with running_bot(fake, fast_retriever, sync_commands="guilds", sync_guilds=[fake.guild_id]):
        assert {c.get("guild_id") for c in fake.commands} == {str(fake.guild_id)}


@pytest.mark.asyncio
async def test_the_token_never_reaches_the_logs(fake, fast_retriever: Retriever, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    async with running_bot(fake, fast_retriever):
        await fake.send_message("Who founded NAUH?", mention_bot=True)
        await fake.wait_sent(1, timeout=10)
    assert caplog.records and all(fake.token not in r.getMessage() for r in caplog.records)


def run_bot(tmp_path: Path, config: str, **env: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.toml"
    path.write_text(config)
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(path)], capture_output=True, text=True,
                          cwd=PROJECT, env=environment, timeout=60)


def test_a_config_error_names_the_key_and_the_file(tmp_path: Path):
    result = run_bot(tmp_path, "[bot]\ncooldown = 3\n", DISCORD_TOKEN="x")
    assert result.returncode == 2
    assert "unknown key `cooldown`" in result.stderr and "config.toml" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_type_names_the_key(tmp_path: Path):
    result = run_bot(tmp_path, '[bot]\nrequire_mention = "yes"\n', DISCORD_TOKEN="x")
    assert result.returncode == 2 and "`require_mention` must be bool" in result.stderr


def test_a_missing_token_says_where_to_put_it(tmp_path: Path):
    result = run_bot(tmp_path, "[bot]\nlog_level = \"INFO\"\n")
    assert result.returncode == 2
    assert "no bot token: set DISCORD_TOKEN" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("config_token", "environ", "where"), [
    ("first-half\nsecond-half", {}, "[bot] token in config.toml"),
    ("", {"DISCORD_TOKEN": "first-half\r\nsecond-half"}, "DISCORD_TOKEN"),
    ("", {"DISCORD_TOKEN": "first-half second-half"}, "DISCORD_TOKEN"),
])
def test_a_token_with_a_line_break_is_refused_without_showing_it(config_token: str, environ: dict, where: str):
    with pytest.raises(ConfigError, match="holds a line break") as error:
        resolve_token(BotConfig(token=config_token), Path("config.toml"), environ)
    message = str(error.value)
    assert where in message and "half" not in message and "\n" not in message


def test_a_token_with_a_line_break_stops_the_bot_with_one_line(tmp_path: Path):
    result = run_bot(tmp_path, "[bot]\n", DISCORD_TOKEN="first-half\nsecond-half")
    assert result.returncode == 2 and "holds a line break" in result.stderr
    assert "half" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
