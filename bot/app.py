"""The Discord client: questions in channels and the slash commands, all answered from one Retriever."""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

import discord
from discord import app_commands

from retrieval import Answer, RetrievalConfig, RetrievalError, Retriever

from . import replies
from .commands import register_commands
from .config import BotConfig
from .delivery import LostReplies
from .discord_reply import NO_PINGS, message_kwargs
from .feedback import VoteButton, Votes, vote_view
from .notices import tell_author
from .reloading import Reloader
from .routing import Cooldown, Incoming, Turns, question_from

log = logging.getLogger("bot")
THREAD_NAME_CHARS = 100
COOLDOWN_NOTICE = "Please wait {seconds} s before asking again; your last question was not searched."
COOLDOWN_NOTICE_MIN_SECONDS = 5  # long enough to read, when the notice has to go in the channel


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
        self.votes = Votes(config.feedback_db if config.feedback else None, self.writer)
        self.reloader = Reloader(self, retrieval)
        self.turns = Turns()
        self.lost_replies = LostReplies()
        register_commands(self)

    async def setup_hook(self) -> None:
        await self.votes.open()
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
        self.votes.close()

    async def search(self, question: str, k: int | None, guild_id: int | None, channel_id: int | None,
                     user_id: int) -> tuple[Answer | None, list[replies.Reply]]:
        """Answer a question and log how it went. Returns the answer (None when there is none) and the replies:
        the passages, a refusal that says why, or, whatever else goes wrong, the private NOT_SEARCHED notice."""
        where = f"guild={guild_id or 'DM'} channel={channel_id} user={user_id}"
        try:
            answer = await self.answer(question, k)
            pages = replies.answer_replies(answer)
        except RetrievalError as error:
            log.info("question refused %s question=%.80r: %s", where, question, error)
            return None, [replies.error_reply(f"Sorry, I can't search that: {error}")]
        except Exception:  # a fault in the library must still get the asker a reply
            log.exception("question failed %s question=%.80r", where, question)
            return None, [replies.Reply(content=replies.NOT_SEARCHED, private=True)]
        log.info("question %s hits=%d took_ms=%.1f question=%.80r", where, len(answer.hits), answer.took_ms,
                 question)
        return answer, pages

    async def outgoing(self, pages: list[replies.Reply], answer: Answer | None, guild_id: int | None,
                       channel_id: int | None) -> list[dict]:
        """What to send, a message per reply; the last with vote buttons when it ends an answer and the vote
        can be kept (votes are best effort: an answer never waits on or fails with them)."""
        messages = [message_kwargs(page) for page in pages]
        if pages[-1].votes and answer is not None:
            answer_id = await self.votes.record_answer(answer, guild_id, channel_id)
            if answer_id is not None:
                messages[-1]["view"] = vote_view(answer_id)
        return messages

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
        try:
            await self.answer_message(message, question)
        except discord.HTTPException as error:  # say why in plain words; a traceback would not
            self.lost_replies.log(error, message.channel)

    async def answer_message(self, message: discord.Message, question: str) -> None:
        wait = self.cooldown.retry_after(message.author.id)
        if wait:
            text = COOLDOWN_NOTICE.format(seconds=max(1, round(wait)))
            await tell_author(message, text, max(wait, COOLDOWN_NOTICE_MIN_SECONDS))
            return
        guild_id = message.guild.id if message.guild else None
        async with self.turns.turn(message.channel.id) as after_previous:
            async with message.channel.typing():
                answer, pages = await self.search(question, None, guild_id, message.channel.id, message.author.id)
            messages = await self.outgoing(pages, answer, guild_id, message.channel.id)
            await after_previous()
            if pages[0].private:
                await tell_author(message, pages[0].content)
            else:
                await self.send_replies(message, messages)

    async def send_replies(self, message: discord.Message, messages: list[dict]) -> None:
        """The first message replies to the question and the rest follow it, in a thread when so configured."""
        first, *rest = messages
        place: discord.abc.Messageable | None = await self.reply_in_thread(message, first)
        if place is None:
            place = message.channel
            await message.reply(**first, mention_author=False)
        for kwargs in rest:
            await place.send(**kwargs)

    async def reply_in_thread(self, message: discord.Message, first: dict) -> discord.Thread | None:
        """Open a thread on the question and send `first` there when replies go in threads; None if not sent."""
        if not (self.config.reply_in_thread and isinstance(message.channel, discord.TextChannel)):
            return None
        try:
            thread = await message.create_thread(name=replies.limits.fit(message.clean_content, THREAD_NAME_CHARS)
                                                 or "Question")
            await thread.send(**first)
            return thread
        except discord.HTTPException as error:
            log.warning("could not reply in a thread (%s); replying in the channel", error)
            return None


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

