"""Proof that FakeDiscord serves a real discord.py 2.7 bot: login, sync, messages, interactions, resume, shards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.bot.fake_discord import FakeDiscord
from tests.bot.fake_discord.model import SEND_MESSAGES

from .fake_discord.codes import Callback, OptionType

DEADLINE = 0.3
TOPICS = ["apples", "apricots", "bananas", *(f"topic {i:02d}" for i in range(40))]


class MoreView(discord.ui.View):
    """The button a real answer carries: "More" shows more sources, ephemerally."""

    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.button(label="More", custom_id="more")
    async def more(self, interaction: discord.Interaction, button: discord.ui.Button[MoreView]) -> None:
        await interaction.response.send_message("more sources", ephemeral=True)


class SampleBot(commands.Bot):
    """A minimal bot: /ask (autocomplete, defer, follow-up with a button), /slow, /hello, /steps, and an
    on_message that echoes, or for "long", "thread", "dm" and "edit" does what they say."""

    def __init__(self, fake: FakeDiscord, *, message_content: bool = True, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05, **options)
        self.fake = fake
        self.inbox: asyncio.Queue[discord.Message] = asyncio.Queue()
        self.errors: list[discord.HTTPException] = []
        self.resumed = asyncio.Event()
        self.tree.add_command(ask)
        self.tree.add_command(slow)
        self.tree.add_command(hello)
        self.tree.add_command(steps)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every non-initial IDENTIFY; not needed against the fake."""

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        await self.inbox.put(message)
        text = message.content.replace(f"<@{self.fake.bot_user_id}>", "").strip()
        try:
            if text == "long":
                await message.reply("x" * 2001)
            elif text == "thread":
                thread = await message.create_thread(name="Answer thread")
                await thread.send("in the thread")
            elif text == "dm":
                await message.author.send("in private")
            elif text == "edit":
                async with message.channel.typing():
                    draft = await message.reply("draft")
                await draft.edit(content="final")
            elif text:
                await message.reply(f"you said: {text}")
        except discord.HTTPException as exc:
            self.errors.append(exc)


@app_commands.command(name="ask", description="Ask a question about the sources")
@app_commands.describe(question="What you want to know", top="How many passages")
async def ask(interaction: discord.Interaction, question: str, top: int = 3) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.followup.send(f"Answer to {question} ({top} passages)", view=MoreView())


@ask.autocomplete("question")
async def ask_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    choices = [app_commands.Choice(name=t, value=t) for t in TOPICS if t.startswith(current)]
    return choices if current == "" else choices[:25]  # "" plays a bot that forgot Discord's limit of 25


@app_commands.command(name="slow", description="Answers after the acknowledgement deadline")
async def slow(interaction: discord.Interaction) -> None:
    await asyncio.sleep(DEADLINE + 0.2)
    try:
        await interaction.response.send_message("too late")
    except discord.HTTPException as exc:
        interaction.client.errors.append(exc)  # type: ignore[attr-defined]


@app_commands.command(name="hello", description="Says hello")
async def hello(interaction: discord.Interaction) -> None:
    try:
        await interaction.response.send_message("hello!")
    except discord.HTTPException as exc:
        interaction.client.errors.append(exc)  # type: ignore[attr-defined]


@app_commands.command(name="steps", description="Uses every interaction webhook route once")
async def steps(interaction: discord.Interaction) -> None:
    await interaction.response.defer()
    await interaction.edit_original_response(content="step 1")
    original = await interaction.original_response()
    follow = await interaction.followup.send(f"step 2 after {original.content}", wait=True)
    await follow.edit(content="step 3")
    await interaction.delete_original_response()


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(interaction_deadline=DEADLINE) as server:
        yield server


@pytest.mark.asyncio
async def test_sync_message_reply_and_heartbeats(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)) as bot:
        names = ["ask", "slow", "hello", "steps"]
        assert [(c["name"], c.get("guild_id")) for c in fake.commands] == [(n, None) for n in names]
        options = {o["name"]: o for o in fake.commands[0]["options"]}
        assert options["question"]["type"] == OptionType.STRING and options["question"]["required"] is True
        assert options["question"]["autocomplete"] is True
        assert options["top"]["type"] == OptionType.INTEGER and not options["top"].get("required")
        guild = bot.get_guild(fake.guild_id)
        assert guild is not None and {c.name for c in guild.text_channels} == {"general", "questions"}
        assert {r.name for r in guild.roles} == {"@everyone", "Moderators", "Bot"}

        asked = await fake.send_message("hello there", channel_id=fake.channel_id("questions"))
        (reply,) = await fake.wait_sent(1)
        assert reply["content"] == "you said: hello there"
        assert reply["channel_id"] == str(fake.channel_id("questions"))
        assert str(reply["message_reference"]["message_id"]) == asked["id"]
        assert reply["allowed_mentions"] == {"parse": []}
        assert fake.message(reply["id"])["referenced_message"]["id"] == asked["id"]

        bot.tree.copy_global_to(guild=discord.Object(fake.guild_id))
        await bot.tree.sync(guild=discord.Object(fake.guild_id))
        guild_commands = [c for c in fake.commands if c.get("guild_id") == str(fake.guild_id)]
        assert [c["name"] for c in guild_commands] == names
        handle = await fake.send_interaction("hello")
        assert handle.payload["data"]["guild_id"] == str(fake.guild_id)
        assert (await handle.wait_response())["data"]["content"] == "hello!"

        beats = await fake.wait_until(lambda: fake.heartbeats if len(fake.heartbeats) >= 3 else None, 3)
        assert all(0 <= b.ack_delay < 0.05 for b in beats)
        # the client saw the acks (inf without any); it can read up to one interval: see the report
        assert bot.latency < 1.0
    assert fake.violations == []
    assert [r.path for r in fake.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]


@pytest.mark.asyncio
async def test_many_messages_in_flight_and_heartbeats_acked(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)):
        await asyncio.gather(*(fake.send_message(f"q{i}") for i in range(40)))
        sent = await fake.wait_sent(40, timeout=10)
        assert sorted(m["content"] for m in sent) == sorted(f"you said: q{i}" for i in range(40))
        await fake.wait_until(lambda: len(fake.heartbeats) >= 2, 3)
        assert max(b.ack_delay for b in fake.heartbeats) < 0.05
    assert fake.violations == []


@pytest.mark.asyncio
async def test_slash_command_defer_followup_autocomplete_and_button(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)):
        choices = await fake.send_interaction("ask", {"question": "ap"}, focused="question")
        response = await choices.wait_response()
        assert response == {"type": Callback.AUTOCOMPLETE_RESULT,
                            "data": {"choices": [{"name": "apples", "value": "apples"},
                                                 {"name": "apricots", "value": "apricots"}]}}
        many = await (await fake.send_interaction("ask", {"question": "topic"}, focused="question")).wait_response()
        assert len(many["data"]["choices"]) == 25
        too_many = await fake.send_interaction("ask", {"question": ""}, focused="question")
        (rejection,) = await too_many.wait_rejections(1)
        assert rejection.error["errors"]["choices"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
        assert [v.kind for v in fake.violations] == ["limits"]
        fake.violations.clear()

        command = await fake.send_interaction("ask", {"question": "apples", "top": 5})
        assert (await command.wait_response())["type"] == Callback.DEFERRED_CHANNEL_MESSAGE
        (answer,) = await command.wait_followups(1)
        assert answer["content"] == "Answer to apples (5 passages)"
        assert answer["id"] == command.original["id"], "first follow-up after a defer replaces the thinking message"
        assert not answer["flags"] & 128
        button = answer["components"][0]["components"][0]
        assert (button["custom_id"], button["label"]) == ("more", "More")

        press = await fake.send_interaction(custom_id="more", message=answer)
        assert await press.wait_response() == {"type": Callback.CHANNEL_MESSAGE, "data": {
            "tts": False, "content": "more sources", "flags": 64, "allowed_mentions": {"parse": []}}}
        assert press.ephemeral
        with pytest.raises(LookupError):
            await fake.send_interaction(custom_id="missing", message=answer)
        with pytest.raises(LookupError):
            await fake.send_interaction("never-synced")
    assert fake.violations == []


@pytest.mark.asyncio
async def test_second_acknowledgement_fails_with_40060(fake: FakeDiscord) -> None:
    first, second = SampleBot(fake), SampleBot(fake)  # the classic: the same bot running twice
    async with fake.running(first), fake.running(second):
        handle = await fake.send_interaction("hello")
        await handle.wait_response()
        (rejection,) = await handle.wait_rejections(1)
        await fake.wait_until(lambda: first.errors or second.errors, 2)
    assert rejection.status == 400 and rejection.error["code"] == 40060
    (error,) = first.errors + second.errors
    assert (error.status, error.code) == (400, 40060)
    assert len(handle.responses) == 1
    assert [(v.kind, v.detail) for v in fake.violations] == [
        ("interaction", "Interaction has already been acknowledged.")]


@pytest.mark.asyncio
async def test_acknowledgement_after_deadline_is_unknown_interaction(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)) as bot:
        handle = await fake.send_interaction("slow")
        (rejection,) = await handle.wait_rejections(1, timeout=3)
        await fake.wait_until(lambda: bot.errors, 2)
    assert handle.response is None and rejection.status == 404
    (error,) = bot.errors
    assert isinstance(error, discord.NotFound) and error.code == 10062


@pytest.mark.asyncio
async def test_callback_without_with_response_is_204_and_acknowledges(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)) as bot, aiohttp.ClientSession() as http:
        handle = await fake.send_interaction("slow")
        url = f"{fake.base_url}/interactions/{handle.id}/{handle.token}/callback"
        async with http.post(url, json={"type": Callback.DEFERRED_CHANNEL_MESSAGE}) as answer:
            assert answer.status == 204
        deferred = {"type": Callback.DEFERRED_CHANNEL_MESSAGE}
        async with http.post(url, params={"with_response": "1"}, json=deferred) as answer:
            assert answer.status == 400 and answer.headers["Content-Type"] == "application/json"
            assert await answer.json() == {"code": 40060, "message": "Interaction has already been acknowledged."}
        await fake.wait_until(lambda: bot.errors, 2)
    assert [e.code for e in bot.errors] == [40060]
    assert handle.response == {"type": Callback.DEFERRED_CHANNEL_MESSAGE}


@pytest.mark.asyncio
async def test_interaction_webhook_routes(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)):
        handle = await fake.send_interaction("steps")
        await fake.wait_until(lambda: handle.original_deleted, 3)
        in_dm = await fake.send_interaction("hello", dm=True)
        assert (await in_dm.wait_response())["data"]["content"] == "hello!"
    assert handle.response == {"type": Callback.DEFERRED_CHANNEL_MESSAGE}
    assert [e["content"] for e in handle.edits] == ["step 1", "step 3"]
    (follow,) = handle.followups
    assert fake.message(follow["id"])["content"] == "step 3"
    hook = f"/webhooks/{fake.application_id}/{handle.token}"
    assert [(r.method, r.path, r.status) for r in fake.requests if handle.token in r.path] == [
        ("POST", f"/interactions/{handle.id}/{handle.token}/callback", 200),
        ("PATCH", f"{hook}/messages/@original", 200),
        ("GET", f"{hook}/messages/@original", 200),
        ("POST", hook, 200),
        ("PATCH", f"{hook}/messages/{follow['id']}", 200),
        ("DELETE", f"{hook}/messages/@original", 204),
    ]
    assert fake.violations == []


@pytest.mark.asyncio
async def test_threads_dms_typing_and_edits(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)):
        started = await fake.send_message("thread")
        await fake.send_message("dm", author=fake.human_ids[1])
        await fake.send_message("edit")
        sent = await fake.wait_sent(3)
        edited = await fake.wait_for(lambda r: r.method == "PATCH")
    by_content = {m["content"]: m for m in sent}
    assert by_content["in the thread"]["channel_id"] == started["id"], "a thread from a message shares its id"
    assert fake.message(started["id"])["thread"]["name"] == "Answer thread"
    assert by_content["in private"]["channel_id"] == str(fake.dm_channel_id(fake.human_ids[1]))
    assert fake.message(by_content["draft"]["id"])["content"] == "final"
    assert edited.json["content"] == "final"
    paths = [(r.method, r.path) for r in fake.requests]
    assert ("POST", f"/channels/{started['channel_id']}/messages/{started['id']}/threads") in paths
    assert ("POST", "/users/@me/channels") in paths
    assert ("POST", f"/channels/{fake.channel_id()}/typing") in paths
    assert fake.violations == []


@pytest.mark.asyncio
async def test_wrong_token_is_refused(fake: FakeDiscord) -> None:
    bot = SampleBot(fake)
    try:
        with pytest.raises(discord.LoginFailure):
            await bot.login("not-the-token")
    finally:
        await bot.close()
    (request,) = fake.requests
    assert (request.path, request.status, request.response) == (
        "/users/@me", 401, {"code": 0, "message": "401: Unauthorized"})
    assert request.headers["Authorization"] == "Bot not-the-token"
    assert [v.kind for v in fake.violations] == ["auth"]


@pytest.mark.asyncio
async def test_content_is_empty_without_the_intent_unless_mentioned_or_dm(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake, message_content=False)) as bot:
        await fake.send_message("plain words")
        assert (await asyncio.wait_for(bot.inbox.get(), 2)).content == ""
        await fake.send_message("about apples", mention_bot=True)
        assert (await asyncio.wait_for(bot.inbox.get(), 2)).content == f"<@{fake.bot_user_id}> about apples"
        await fake.send_message("in private", dm=True)
        dm = await asyncio.wait_for(bot.inbox.get(), 2)
        assert (dm.content, dm.guild) == ("in private", None)
        assert [m["content"] for m in await fake.wait_sent(2)] == ["you said: about apples", "you said: in private"]


@pytest.mark.asyncio
async def test_message_content_intent_not_granted_closes_with_4014() -> None:
    async with FakeDiscord(message_content_intent_granted=False) as fake:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with fake.running(SampleBot(fake)):
                pass


@pytest.mark.asyncio
async def test_reconnect_leads_to_resume_and_the_bot_still_answers(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)) as bot:
        session = await fake.send_reconnect()
        await asyncio.wait_for(bot.resumed.wait(), 2)
        assert session.resumes == 1 and len(fake.sessions) == 1
        received = [(f.op, f.path) for f in fake.gateway_frames if f.direction == "in" and f.op != 1]
        assert received == [(2, "/gateway"), (6, "/gateway-resume")]
        await fake.send_message("still there?")
        (reply,) = await fake.wait_sent(1)
        assert reply["content"] == "you said: still there?"
        handle = await fake.send_interaction("hello")
        assert (await handle.wait_response())["data"]["content"] == "hello!"
    assert fake.violations == []


@pytest.mark.asyncio
async def test_auto_sharded_bot_gets_each_guild_on_its_shard() -> None:
    guild_a = 1_200_000_000_000_000_000  # (id >> 22) % 2 == 1
    guild_b = guild_a + (1 << 22)  # shard 0
    async with FakeDiscord(guild_ids=(guild_a, guild_b), shard_count=2) as fake:

        class ShardedBot(SampleBot, commands.AutoShardedBot):
            pass

        async with fake.running(ShardedBot(fake)) as bot:
            assert bot.shard_count == 2
            assert {g.id: g.shard_id for g in bot.guilds} == {guild_a: 1, guild_b: 0}
            for guild_id in (guild_a, guild_b):
                await fake.send_message(f"hi {guild_id}", channel_id=fake.channel_id("general", guild_id))
            sent = await fake.wait_sent(2)
            assert {m["content"] for m in sent} == {f"you said: hi {guild_a}", f"you said: hi {guild_b}"}
            handle = await fake.send_interaction("hello", channel_id=fake.channel_id("general", guild_b))
            assert (await handle.wait_response())["data"]["content"] == "hello!"
        assert any(r.path == "/gateway/bot" for r in fake.requests)
        deliveries = {(f.t, f.shard_id) for f in fake.gateway_frames if f.direction == "out" and f.op == 0}
        assert {("READY", 0), ("READY", 1), ("MESSAGE_CREATE", 0), ("MESSAGE_CREATE", 1)} <= deliveries
        assert ("INTERACTION_CREATE", 0) in deliveries and ("INTERACTION_CREATE", 1) not in deliveries
        assert fake.violations == []


@pytest.mark.asyncio
async def test_overlong_message_is_rejected_and_recorded(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)) as bot:
        await fake.send_message("long")
        await fake.wait_until(lambda: bot.errors, 2)
    (error,) = bot.errors
    assert (error.status, error.code) == (400, 50035)
    assert fake.sent_messages() == []
    (violation,) = fake.violations
    assert violation.kind == "limits"
    assert violation.errors == {"content": {"_errors": [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}


@pytest.mark.asyncio
async def test_embed_and_component_limits(fake: FakeDiscord) -> None:
    def embed(**fields: Any) -> discord.Embed:
        return discord.Embed.from_dict({"description": "d", **fields})

    def view(**button: Any) -> discord.ui.View:
        result = discord.ui.View()
        result.add_item(discord.ui.Button(**{"label": "ok", "custom_id": "ok", **button}))
        return result

    cases: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        ({"embed": embed(title="t" * 257)}, ("embeds", "0", "title")),
        ({"embed": embed(description="d" * 4097)}, ("embeds", "0", "description")),
        ({"embed": embed(fields=[{"name": "n", "value": "v"}] * 26)}, ("embeds", "0", "fields")),
        ({"embed": embed(fields=[{"name": "n" * 257, "value": "v"}])}, ("embeds", "0", "fields", "0", "name")),
        ({"embed": embed(fields=[{"name": "n", "value": "v" * 1025}])}, ("embeds", "0", "fields", "0", "value")),
        ({"embed": embed(footer={"text": "f" * 2049})}, ("embeds", "0", "footer", "text")),
        ({"embed": embed(author={"name": "a" * 257})}, ("embeds", "0", "author", "name")),
        ({"embeds": [embed(description="d" * 1100)] * 6}, ("embeds",)),
        ({"view": view(label="l" * 81)}, ("components", "0", "components", "0", "label")),
        ({"view": view(custom_id="c" * 101)}, ("components", "0", "components", "0", "custom_id")),
    ]
    async with fake.running(SampleBot(fake)) as bot:
        channel = bot.get_channel(fake.channel_id())
        assert isinstance(channel, discord.TextChannel)
        for kwargs, path in cases:
            with pytest.raises(discord.HTTPException) as raised:
                await channel.send(**kwargs)
            assert raised.value.code == 50035, kwargs
            node = fake.violations[-1].errors
            for key in path:
                node = node[key]
            assert node["_errors"], path
        ok = await channel.send(embeds=[embed(description="d" * 1000)] * 5, view=view(label="l" * 80))
    assert [v.kind for v in fake.violations] == ["limits"] * len(cases)
    assert [m["id"] for m in fake.sent_messages()] == [str(ok.id)]


@pytest.mark.asyncio
@pytest.mark.parametrize("mentions", [
    None,
    discord.AllowedMentions(everyone=True, users=False, roles=False, replied_user=False),
    discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=True),
], ids=["missing", "parse-everyone", "replied-user"])
async def test_allowed_mentions_that_could_ping_are_a_violation(
        fake: FakeDiscord, mentions: discord.AllowedMentions | None) -> None:
    async with fake.running(SampleBot(fake, allowed_mentions=mentions)):
        await fake.send_message("ping me")
        (reply,) = await fake.wait_sent(1)
    assert reply.get("allowed_mentions") != {"parse": []}
    assert [v.kind for v in fake.violations] == ["allowed_mentions"]


@pytest.mark.asyncio
async def test_unknown_route_is_a_discord_style_404(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)) as bot:
        with pytest.raises(discord.NotFound) as raised:
            await bot.http.request(discord.http.Route("GET", "/nowhere/{id}", id=1))
    assert raised.value.code == 0 and raised.value.text == "404: Not Found"
    assert [(v.kind, v.path) for v in fake.violations] == [("unknown_route", "/nowhere/1")]


@pytest.mark.asyncio
async def test_a_denied_permission_is_seen_by_the_client_and_refused_with_50013(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)) as bot:
        general, questions = fake.channel_id("general"), fake.channel_id("questions")
        await fake.deny_bot(general, SEND_MESSAGES)
        await fake.send_message("hello there")  # in #general
        await fake.wait_until(lambda: bot.errors, 2)
        channel = bot.get_channel(general)
        assert isinstance(channel, discord.TextChannel)
        assert not channel.permissions_for(channel.guild.me).send_messages  # CHANNEL_UPDATE reached the cache
        await fake.send_message("hello there", channel_id=questions)
        (reply,) = await fake.wait_sent(1)
    (error,) = bot.errors
    assert isinstance(error, discord.Forbidden) and (error.code, error.text) == (50013, "Missing Permissions")
    assert reply["channel_id"] == str(questions)
    assert [(v.kind, v.path) for v in fake.violations] == [("permissions", f"/channels/{general}/messages")]


@pytest.mark.asyncio
async def test_a_failing_channel_answers_5xx_until_it_recovers(fake: FakeDiscord) -> None:
    async with fake.running(SampleBot(fake)) as bot:
        fake.fail_channel(fake.channel_id(), 503)
        await fake.send_message("hello there")
        await fake.wait_until(lambda: bot.errors, 2)
        fake.fail_channel(fake.channel_id(), None)
        await fake.send_message("hello again")
        (reply,) = await fake.wait_sent(1)
    (error,) = bot.errors
    assert isinstance(error, discord.DiscordServerError) and error.status == 503
    assert reply["content"] == "you said: hello again"
    assert fake.violations == []
