"""The bot's one service object: config, the retriever in use and each server's own library, the search and
writer threads, votes, cooldown, turns and the reloader. The client, the cogs, the views and the reloader
receive it; it knows no client."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from retrieval import Answer, RetrievalConfig, RetrievalError, Retriever
from retrieval.errors import IndexProblem, Unavailable
from retrieval.libraries import Libraries, LibraryLimits
from retrieval.search.followup import answer_followup
from retrieval.search.language import Unreadable
from retrieval.store.layered import LayeredIndex

from . import limits, replies
from .config import BotConfig
from .database import DatabaseError
from .delivery import LostReplies
from .discord_reply import message_kwargs
from .paging import PAGER_TIMEOUT_SECONDS
from .reloading import Reloader
from .routing import Cooldown, Turns
from .settings_store import ServerSettings, SettingsStore, as_stored
from .stopping import InFlight
from .threads import ThreadMemory
from .vote_buttons import Votes, vote_view

LOG = logging.getLogger(__name__)
SERVICE_DOWN = "The sources cannot be searched right now; your question was not searched. Try again in a minute."
OWN_LEFT_OUT = ("This server's own documents are being indexed again, so this answer comes from the shared sources "
                "only; ask again in a few minutes to search them too.")


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


class Service:
    """Everything the bot's parts share, held open around the client that uses it, as discord.py's examples hold
    theirs: `async with Service(...) as service:`."""

    def __init__(self, config: BotConfig, retriever: Retriever, retrieval: RetrievalConfig | None = None) -> None:
        self.config = config
        self.retrieval = retrieval  # where the index and its sources are; None: started without a config file
        self.retriever = CurrentRetriever(retriever)
        self.searcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")
        # votes get their own thread, so recording one never waits behind a queue of searches
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback")
        # reports read the question log on a thread and a connection of their own, beside the writes
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report")
        # the database is always opened: `feedback` is only the default of each server's keep_questions
        self.votes = Votes(config.feedback_db, self.writer)
        self.defaults = ServerSettings.defaults(config)
        self.settings_store: SettingsStore | None = None
        self.server_changes: dict[int, dict] = {}  # read once at start, then kept in step with every change
        self.cooldown = Cooldown(config.cooldown_seconds)
        self.turns = Turns()
        self.threads = ThreadMemory()
        self.lost_replies = LostReplies()
        self.in_flight = InFlight()  # the questions being answered, for a stop that drops none
        self.reloader = Reloader(self.retriever, retrieval)
        # each server's own library beside the shared one; none when the index is not this bot's own
        self.libraries = None if retrieval is None else Libraries(
            retrieval, config.server_sources, LibraryLimits(config.server_max_documents, config.server_max_mb,
                                                            config.server_libraries_open, config.server_grace_days,
                                                            config.server_library_workers),
            retriever.encoder)
        self.pager_timeout = PAGER_TIMEOUT_SECONDS  # seconds until page buttons are disabled

    async def __aenter__(self) -> Service:
        """Open the databases, on the writer thread."""
        await self.votes.open()
        loop = asyncio.get_running_loop()
        try:
            self.settings_store = await loop.run_in_executor(self.writer, SettingsStore, self.config.feedback_db)
            self.server_changes = await loop.run_in_executor(self.writer, self.settings_store.load)
        except DatabaseError as error:  # answers go on with the config file's settings
            LOG.warning("server settings are the config file's: %s", error)
        if self.libraries is not None:  # documents a killed /add-source saved but did not index
            await loop.run_in_executor(self.writer, self.libraries.recover)
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Once the client is closed: stop the threads and close the databases, off the event loop, since the
        records still queued are written first."""
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        if self.settings_store is not None:
            self.settings_store.close()
        self.reloader.close()
        if self.libraries is not None:
            self.libraries.close()
        self.searcher.shutdown(wait=True, cancel_futures=True)
        self.reader.shutdown(wait=True, cancel_futures=True)
        self.writer.shutdown(wait=True)  # answers' records queued are written before the file is closed
        self.votes.close()

    async def library_work(self, guild_id: int | str, work, *args):
        """`work(*args)` on the library pool, behind the server's own earlier changes and beside other servers';
        its result. Cancelled (a stop), the work is cancelled too unless it has started (then it finishes)."""
        return await asyncio.wrap_future(self.libraries.submit(guild_id, work, *args))

    def settings_for(self, guild_id: int | None) -> ServerSettings:
        """The settings in effect in a server (None: direct messages, which get the config file's)."""
        if guild_id is None:
            return self.defaults
        return self.defaults.changed(self.server_changes.get(guild_id, {}))

    def retry_after(self, user_id: int, guild_id: int | None) -> float:
        """How long a user must still wait before asking again in this server (0: go), by its cooldown."""
        return self.cooldown.retry_after(user_id, seconds=self.settings_for(guild_id).cooldown_seconds)

    async def change_settings(self, guild_id: int, settings: ServerSettings, user_id: int) -> None:
        """Store a server's settings and use them at once; DatabaseError when they cannot be stored (then the
        server keeps its previous settings)."""
        if self.settings_store is None:
            raise DatabaseError("the settings database could not be opened when the bot started",
                                public="the bot could not open its settings database when it started; tell "
                                "whoever runs the bot")
        changes = as_stored(settings, self.defaults)
        await asyncio.get_running_loop().run_in_executor(self.writer, self.settings_store.save, guild_id, changes,
                                                         user_id)
        self.server_changes[guild_id] = changes

    def retriever_in(self, guild_id: int | None) -> Retriever:
        """What a server searches (the shared library and its own), or a DM (the shared library); may open the
        server's library from disk, so call it on the search thread."""
        shared = self.retriever.get()
        return shared if self.libraries is None else self.libraries.retriever_for(guild_id, shared)

    async def library(self, guild_id: int | None) -> Retriever:
        """retriever_in, from the event loop: at once when the server's library is open (autocomplete must
        answer within Discord's 3 s, whatever questions queue on the search thread), else on that thread."""
        shared = self.retriever.get()
        ready = shared if self.libraries is None else self.libraries.ready(guild_id, shared)
        if ready is not None:
            return ready
        return await asyncio.get_running_loop().run_in_executor(self.searcher, self.retriever_in, guild_id)

    async def answer(self, question: str, k: int | None = None, previous: str | None = None,
                     guild_id: int | None = None) -> tuple[Answer, frozenset[str]]:
        """Search on the worker thread so the event loop keeps heartbeats and other users going; a follow-up
        (`previous`: the question it follows) with that question when it needs it; a server's stricter relevance
        threshold applied. Also returns the ids of the server's own sources, which its citations name."""
        stricter = self.settings_for(guild_id).min_relevance

        def answered() -> tuple[Answer, frozenset[str]]:
            retriever = self.retriever_in(guild_id)
            settings = retriever.settings
            if stricter is not None and stricter > settings.min_relevance:
                settings = replace(settings, min_relevance=stricter)
            return answer_followup(retriever, question, previous, k, settings), own_sources(retriever)

        return await asyncio.get_running_loop().run_in_executor(self.searcher, answered)

    async def search(self, question: str, k: int | None, guild_id: int | None, channel_id: int | None,
                     user_id: int, previous: str | None = None) -> tuple[Answer | None, list[replies.Reply]]:
        """Answer a question and log how it went. Returns the answer (None when there is none) and the replies:
        the passages, a refusal that says why, or, whatever else goes wrong, the private NOT_SEARCHED notice."""
        where = f"guild={guild_id or 'DM'} channel={channel_id} user={user_id}"
        try:
            answer, own = await self.answer(question, k, previous, guild_id)
            pages = replies.answer_replies(answer, own)
            if not own and self.libraries is not None and self.libraries.repairs(guild_id):
                pages[0] = replace(pages[0], content=limits.fit(f"{OWN_LEFT_OUT}\n{pages[0].content}".strip(),
                                                                limits.CONTENT))
        except (Unavailable, IndexProblem) as error:
            # the services or the index's store, not the question: the asker hears so privately, without the
            # internal address the error names; the log has it all, as the outage it is
            LOG.error("question not searched %s question=%.80r: %s", where, question, error)
            return None, [replies.Reply(content=SERVICE_DOWN, private=True)]
        except Unreadable as error:  # said to the asker alone: the channel needs no notice of it
            LOG.info("question not in English %s language=%s", where, error.language)
            return None, [replies.error_reply(error.public, private=True)]
        except RetrievalError as error:
            LOG.info("question refused %s question=%.80r: %s", where, question, error)
            return None, [replies.error_reply(f"Sorry, I can't search that: {error.public}")]
        except Exception:  # a fault in the library must still get the asker a reply
            LOG.exception("question failed %s question=%.80r", where, question)
            return None, [replies.Reply(content=replies.NOT_SEARCHED, private=True)]
        LOG.info("question %s hits=%d took_ms=%.1f question=%.80r", where, len(answer.hits), answer.took_ms,
                 question)
        return answer, pages

    async def outgoing(self, pages: list[replies.Reply], answer: Answer | None, guild_id: int | None,
                       channel_id: int | None) -> list[dict]:
        """What to send, a message per reply; the last with vote buttons when it ends an answer and the vote
        can be kept (votes are best effort: an answer never waits on or fails with them)."""
        messages = [message_kwargs(page) for page in pages]
        if answer is None or not self.settings_for(guild_id).keep_questions:
            return messages
        # every answered question is kept, covered or not: the report of what the sources don't cover needs both
        answer_id = self.votes.record_answer(answer, guild_id, channel_id)
        if answer_id is not None and pages[-1].votes:
            messages[-1]["view"] = vote_view(answer_id, self.votes)
        return messages


def own_sources(retriever: Retriever) -> frozenset[str]:
    """The ids of the sources a server added itself, of those its retriever searches (none: the shared alone)."""
    index = getattr(retriever, "index", None)  # a retrieval service's client has none: the shared library only
    if not isinstance(index, LayeredIndex):
        return frozenset()
    return frozenset(source_id for source_id, layer in index.layer_of.items() if layer > 0)
