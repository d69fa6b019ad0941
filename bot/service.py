"""The bot's one service object: config, the retriever in use, the search and writer threads, votes, cooldown,
turns and the reloader. The client, the cogs, the views and the reloader receive it; it knows no client."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from retrieval import Answer, RetrievalConfig, RetrievalError, Retriever
from retrieval.search.followup import answer_followup

from . import replies
from .config import BotConfig
from .delivery import LostReplies
from .discord_reply import message_kwargs
from .feedback import Votes, vote_view
from .paging import PAGER_TIMEOUT_SECONDS
from .reloading import Reloader
from .routing import Cooldown, Turns
from .threads import ThreadMemory

log = logging.getLogger("bot")


class CurrentRetriever:
    """The retriever in use, swapped whole: a search that already took it with `get` finishes on it."""

    def __init__(self, retriever: Retriever) -> None:
        self._retriever = retriever
        self._lock = threading.Lock()

    def get(self) -> Retriever:
        with self._lock:
            return self._retriever

    def swap(self, new: Retriever) -> Retriever:
        """Put `new` in use; returns the one it replaced."""
        with self._lock:
            old, self._retriever = self._retriever, new
            return old


@dataclass(frozen=True)
class ServerSettings:
    """What one server (or DMs, guild None) gets; today every value is the config file's."""

    question_channels: tuple[int, ...]
    private_replies: bool
    reply_in_thread: bool
    cooldown_seconds: float
    count: int | None  # passages per answer; None: the retrieval settings' top_k
    min_relevance: float | None  # a stricter relevance threshold than retrieval's; None: retrieval's own
    keep_questions: bool  # record answered questions (for votes)


class Service:
    """Everything the bot's parts share. `open` before use (on the event loop), `close` once at the end."""

    def __init__(self, config: BotConfig, retriever: Retriever, retrieval: RetrievalConfig | None = None) -> None:
        self.config = config
        self.retrieval = retrieval  # where the index and its sources are; None: started without a config file
        self.retriever = CurrentRetriever(retriever)
        self.searcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")
        # votes get their own thread, so recording one never waits behind a queue of searches
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback")
        self.votes = Votes(config.feedback_db if config.feedback else None, self.writer)
        self.cooldown = Cooldown(config.cooldown_seconds)
        self.turns = Turns()
        self.threads = ThreadMemory()
        self.lost_replies = LostReplies()
        self.reloader = Reloader(self.retriever, retrieval)
        self.pager_timeout = PAGER_TIMEOUT_SECONDS  # seconds until page buttons are disabled

    async def open(self) -> None:
        await self.votes.open()

    def close(self) -> None:
        self.reloader.close()
        self.searcher.shutdown(wait=True, cancel_futures=True)
        self.writer.shutdown(wait=True)
        self.votes.close()

    def settings_for(self, guild_id: int | None) -> ServerSettings:
        """The settings in effect in a server (None: direct messages)."""
        config = self.config
        return ServerSettings(question_channels=tuple(config.question_channels),
                              private_replies=config.private_replies, reply_in_thread=config.reply_in_thread,
                              cooldown_seconds=config.cooldown_seconds, count=None, min_relevance=None,
                              keep_questions=config.feedback)

    async def answer(self, question: str, k: int | None = None, previous: str | None = None) -> Answer:
        """Search on the worker thread so the event loop keeps heartbeats and other users going; a follow-up
        (`previous`: the question it follows) with that question when it needs it."""
        retriever = self.retriever.get()
        return await asyncio.get_running_loop().run_in_executor(self.searcher, answer_followup, retriever, question,
                                                                previous, k)

    async def search(self, question: str, k: int | None, guild_id: int | None, channel_id: int | None,
                     user_id: int, previous: str | None = None) -> tuple[Answer | None, list[replies.Reply]]:
        """Answer a question and log how it went. Returns the answer (None when there is none) and the replies:
        the passages, a refusal that says why, or, whatever else goes wrong, the private NOT_SEARCHED notice."""
        where = f"guild={guild_id or 'DM'} channel={channel_id} user={user_id}"
        try:
            answer = await self.answer(question, k, previous)
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
        if pages[-1].votes and answer is not None and self.settings_for(guild_id).keep_questions:
            answer_id = await self.votes.record_answer(answer, guild_id, channel_id)
            if answer_id is not None:
                messages[-1]["view"] = vote_view(answer_id, self.votes)
        return messages
