"""The Discord client: questions in channels and the slash commands, all answered from one Retriever."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import discord
from discord import app_commands

from retrieval import Answer, RetrievalError, Retriever
from retrieval.config import BotConfig

from . import replies
from .commands import register_commands
from .discord_reply import NO_PINGS, message_kwargs
from .routing import Cooldown, Incoming, question_from

log = logging.getLogger("bot")
THREAD_NAME_CHARS = 100


class SourceBot(discord.Client):
    """A client that answers questions by quoting the sources; model work runs on one worker thread."""

    def __init__(self, config: BotConfig, retriever: Retriever, **options) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: needed to read questions in question channels
        super().__init__(intents=intents, allowed_mentions=NO_PINGS, **options)
        self.config = config
        self.retriever = retriever
        self.tree = app_commands.CommandTree(self)
        self.cooldown = Cooldown(config.cooldown_seconds)
        self.searcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")
        register_commands(self)

    async def setup_hook(self) -> None:
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
        await super().close()
        self.searcher.shutdown(wait=False, cancel_futures=True)

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
            await message.reply(f"Please wait {wait:.0f} s before asking again.", allowed_mentions=NO_PINGS,
                                mention_author=False, delete_after=max(wait, 5))
            return
        try:
            async with message.channel.typing():
                answer = await self.answer(question)
            reply = replies.answer_reply(answer)
        except RetrievalError as error:
            answer, reply = None, replies.error_reply(f"Sorry, I can't search that: {error}")
        log_question(message.guild, message.channel, message.author, question, answer)
        await self.send_reply(message, reply)

    async def send_reply(self, message: discord.Message, reply: replies.Reply) -> None:
        if self.config.reply_in_thread and isinstance(message.channel, discord.TextChannel):
            try:
                name = (replies.limits.fit(message.clean_content, THREAD_NAME_CHARS) or "Question")
                thread = await message.create_thread(name=name)
                await thread.send(**message_kwargs(reply))
                return
            except discord.HTTPException as error:
                log.warning("could not open a thread (%s); replying in the channel", error)
        await message.reply(**message_kwargs(reply), mention_author=False)


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
