"""The sharded bot (discord.py's AutoShardedClient) answers in guilds on every shard."""

import asyncio

import pytest

from bot.app import ShardedSourceBot
from bot.config import load_bot_config
from retrieval import ConfigError, Retriever
from tests.bot.fake_discord import FakeDiscord

from .conftest import plain, running_bot

GUILDS = (1_200_000_000_000_000_000, 1_200_000_000_004_194_304)  # (id >> 22) % 2 puts them on shards 0 and 1


@pytest.mark.asyncio
async def test_a_sharded_bot_answers_on_every_shard(fast_retriever: Retriever):
    async with (FakeDiscord(guild_ids=GUILDS, shard_count=2) as fake,
                running_bot(fake, fast_retriever, sharded=True) as bot):
        assert isinstance(bot, ShardedSourceBot) and bot.shard_count == 2
        assert {(g >> 22) % 2 for g in GUILDS} == {0, 1}
        for guild in GUILDS:
            await fake.send_message("How many North Korean refugees has NAUH resettled?", mention_bot=True,
                                    channel_id=fake.channel_id("general", guild_id=guild))
        sent = await fake.wait_sent(2, timeout=15)
        assert {s["channel_id"] for s in sent} == {str(fake.channel_id("general", guild_id=g)) for g in GUILDS}
        assert all("about 215 North Korean refugees" in plain(s["embeds"][0]["description"]) for s in sent)
        assert sorted((s.shard_id, s.shard_count) for s in fake.sessions) == [(0, 2), (1, 2)]  # two IDENTIFYs
    assert any(r.path == "/gateway/bot" for r in fake.requests)
    assert fake.violations == []


@pytest.mark.asyncio
async def test_two_processes_each_run_their_own_shard_and_nothing_is_answered_twice(fast_retriever: Retriever):
    async with (FakeDiscord(guild_ids=GUILDS, shard_count=2) as fake,
                running_bot(fake, fast_retriever, shard_ids=[0], shard_count=2) as first,
                running_bot(fake, fast_retriever, shard_ids=[1], shard_count=2) as second):
        on_shard = {(g >> 22) % 2: g for g in GUILDS}
        assert [g.id for g in first.guilds] == [on_shard[0]] and [g.id for g in second.guilds] == [on_shard[1]]
        for guild in GUILDS:
            await fake.send_message("How many North Korean refugees has NAUH resettled?", mention_bot=True,
                                    channel_id=fake.channel_id("general", guild_id=guild))
        sent = await fake.wait_sent(2, timeout=15)
        await asyncio.sleep(0.5)  # time for a second answer to either question, were one coming
        assert len(fake.sent_messages()) == 2
        assert {s["channel_id"] for s in sent} == {str(fake.channel_id("general", guild_id=g)) for g in GUILDS}
        assert sorted((s.shard_id, s.shard_count) for s in fake.sessions) == [(0, 2), (1, 2)]
    assert fake.violations == []


@pytest.mark.parametrize(("settings", "message"), [
    ({"shard_ids": [0]}, "`shard_ids` needs `shard_count`"),
    ({"shard_ids": [2], "shard_count": 2}, "`shard_ids` must be between 0 and 1, not 2"),
    ({"shard_ids": [1, 1], "shard_count": 2}, "`shard_ids` lists a shard twice"),
])
def test_shard_ids_are_checked(tmp_path, settings: dict, message: str):
    config = tmp_path / "config.toml"
    lines = [f"{key} = {value}" for key, value in settings.items()]
    config.write_text("[bot]\n" + "\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=message.replace("`", "`").replace("[", r"\[")):
        load_bot_config(config)
