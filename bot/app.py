"""The Discord client: questions in channels and the slash commands, all answered from one Retriever."""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

import discord
from discord import app_commands

from retrieval import Answer, RetrievalConfig, RetrievalError, Retriever
from retrieval.config import BotConfig
from retrieval.feedback import FeedbackStore

from . import replies
from .commands import register_commands
from .discord_reply import NO_PINGS, message_kwargs
from .feedback import VoteButton, vote_view
from .reloading import Reloader
from .routing import Cooldown, Incoming, Turns, question_from

log = logging.getLogger("bot")
THREAD_NAME_CHARS = 100
COOLDOWN_NOTICE = "Please wait {seconds} s before asking again; your last question was not searched."


class SourceBot(discord.Client):
    """A client that answers questions by quoting the sources; model work runs on one worker thread."""

    def __init__(self, config: BotConfig, retriever: Retriever, retrieval: RetrievalConfig | None = None,
                 **options) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: needed to read questions in question channels
        super().__init__(intents=intents, allowed_mentions=NO_PINGS, **options)
        self.config = config
        self.retriever = retriever
        self.tree = app_commands.CommandTree(self)
        self.cooldown = Cooldown(config.cooldown_seconds)
        self.searcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")
        # votes get their own thread, so recording one never waits behind a queue of searches
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback")
        self.feedback = FeedbackStore(config.feedback_db) if config.feedback else None
        self.reloader = Reloader(self, retrieval)
        self.turns = Turns()
        register_commands(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reloader.reload_logged()))
        if self.config.sync_commands == "global":
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))
        elif self.config.sync_commands == "guilds":
            for guild_id in self.config.sync_guilds:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), guild_id)

    async def close(self) -> None:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await super().close()
        self.reloader.close()
        self.searcher.shutdown(wait=True, cancel_futures=True)
        self.writer.shutdown(wait=True)
        if self.feedback:
            self.feedback.close()

    async def outgoing(self, reply: replies.Reply, answer: Answer | None, guild_id: int | None,
                       channel_id: int | None) -> dict:
        """What to send for a reply: with vote buttons when it is an answer and votes are kept."""
        kwargs = message_kwargs(reply)
        if reply.votes and answer is not None and self.feedback is not None:
            loop = asyncio.get_running_loop()
            answer_id = await loop.run_in_executor(self.writer, self.feedback.record_answer, answer.query,
                                                   answer.hits, guild_id, channel_id)
            kwargs["view"] = vote_view(answer_id)
        return kwargs

    async def answer(self, question: str, k: int | None = None) -> Answer:
        """Search on the worker thread so the event loop keeps heartbeats and other users going."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.searcher, self.retriever.answer, question, k)

    async def on_ready(self) -> None:
        log.info("logged in as %s (id %s) in %d guilds", self.user, self.user.id if self.user else "?",
                 len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        if self.user is None:
            return
        question = question_from(incoming(message, self.user), self.user.id, self.config)
        if question is None:
            return
        wait = self.cooldown.retry_after(message.author.id)
        if wait:
            await self.ask_to_wait(message, wait)
            return
        async with self.turns.turn(message.channel.id) as after_previous:
            try:
                async with message.channel.typing():
                    answer = await self.answer(question)
                reply = replies.answer_reply(answer)
            except RetrievalError as error:
                answer, reply = None, replies.error_reply(f"Sorry, I can't search that: {error}")
            log_question(message.guild, message.channel, message.author, question, answer)
            guild_id = message.guild.id if message.guild else None
            kwargs = await self.outgoing(reply, answer, guild_id, message.channel.id)
            await after_previous()
            await self.send_reply(message, kwargs)

    async def ask_to_wait(self, message: discord.Message, wait: float) -> None:
        """Tell an over-eager asker privately; if their DMs are closed, in a reply that soon disappears."""
        text = COOLDOWN_NOTICE.format(seconds=max(1, round(wait)))
        try:
            await message.author.send(text, allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            await message.reply(text, allowed_mentions=NO_PINGS, mention_author=False, delete_after=max(wait, 5))

    async def send_reply(self, message: discord.Message, kwargs: dict) -> None:
        if self.config.reply_in_thread and isinstance(message.channel, discord.TextChannel):
            try:
                name = (replies.limits.fit(message.clean_content, THREAD_NAME_CHARS) or "Question")
                thread = await message.create_thread(name=name)
                await thread.send(**kwargs)
                return
            except discord.HTTPException as error:
                log.warning("could not open a thread (%s); replying in the channel", error)
        await message.reply(**kwargs, mention_author=False)


class ShardedSourceBot(SourceBot, discord.AutoShardedClient):
    """The same bot on discord.py's AutoShardedClient: one process, several gateway connections."""


def create_bot(config: BotConfig, retriever: Retriever, retrieval: RetrievalConfig | None = None,
               **options) -> SourceBot:
    """A SourceBot, sharded when the config says so."""
    if not config.sharded:
        return SourceBot(config, retriever, retrieval, **options)
    if config.shard_count:
        options.setdefault("shard_count", config.shard_count)
    return ShardedSourceBot(config, retriever, retrieval, **options)


def incoming(message: discord.Message, me: discord.ClientUser) -> Incoming:
    channel = message.channel
    return Incoming(
        content=message.content,
        author_is_bot=message.author.bot,
        is_direct=isinstance(channel, discord.DMChannel),
        channel_id=channel.id,
        parent_channel_id=getattr(channel, "parent_id", None),
        mentions_us=any(user.id == me.id for user in message.mentions),  # @everyone is not a question to us
    )


def log_question(guild, channel, user, question: str, answer: Answer | None) -> None:
    where = f"guild={guild.id if guild else 'DM'} channel={getattr(channel, 'id', '?')}"
    if answer is None:
        log.info("question refused %s user=%s question=%.80r", where, user.id, question)
    else:
        log.info("question %s user=%s hits=%d took_ms=%.1f question=%.80r", where, user.id, len(answer.hits),
                 answer.took_ms, question)
