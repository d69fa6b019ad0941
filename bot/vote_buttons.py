"""👍 / 👎 buttons under every answer; they keep working after a restart because the answer id is in the button.

Votes are best effort: a vote database that is locked or damaged never holds up or fails an answer."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import discord

from retrieval import Answer

from .database import DatabaseError
from .discord_reply import NO_PINGS
from .notices import answer_fault
from .question_log import DOWN, UP, QuestionLog, new_answer_id

LOG = logging.getLogger(__name__)
VOTE_ID = r"vote:(?P<answer>[0-9]+):(?P<vote>up|down)"
VOTES = {"up": (UP, "👍", "Helpful"), "down": (DOWN, "👎", "Not helpful")}
THANKS = "Thanks, your {emoji} is recorded. Press the other button to change it."
NOT_KEPT_ANY_MORE = "Votes are not being kept for this answer any more."
NOT_KEPT_NOW = "Sorry, your vote could not be kept: the bot cannot write its vote database right now."
# A locked database makes each write wait its busy timeout (database.BUSY_TIMEOUT_SECONDS) before failing; one
# by one, the records of 20 answers held a /settings change queued behind them for 30 s. So once a write has
# failed, answers' records are dropped at once, and only one in this many seconds tries the database again: a
# lock held for seconds (a backup, an sqlite3 shell) costs at most this long of records once it is let go.
RETRY_SECONDS = 5.0


class Votes:
    """The bot's vote database, written only on the writer thread; the log says once when votes stop being kept
    and once when they are kept again, never per message."""

    def __init__(self, path: Path | None, writer: ThreadPoolExecutor) -> None:
        self.path = path
        self.writer = writer
        self.failing = False
        self.failed_at = 0.0  # time.monotonic() of the last write that failed
        self.store: QuestionLog | None = None
        # discord.py rebuilds a pressed button from its custom id through its class, so the class holds the store
        self.button: type[VoteButton] = type("BoundVoteButton", (VoteButton,), {"votes": self}, template=VOTE_ID)

    async def open(self) -> None:
        """Open the database unless votes are turned off; one that cannot be used turns them off."""
        if self.path is None:
            return
        try:
            self.store = await asyncio.get_running_loop().run_in_executor(self.writer, QuestionLog, self.path)
        except DatabaseError as error:
            LOG.warning("votes are off: %s", error)

    def record_answer(self, answer: Answer, guild_id: int | None, channel_id: int | None) -> int | None:
        """The id that votes on this answer will refer to, its record queued on the writer thread: the answer
        never waits for it, and a vote, queued after it, finds it. None (no buttons) when votes are not kept or
        the last write failed; the record is still queued, to be tried (and notice that writes work again) once
        RETRY_SECONDS have passed since that failure, else dropped at once."""
        if self.store is None:
            return None
        answer_id = new_answer_id()
        kept = not self.failing
        try:
            written = self.writer.submit(self._record, answer.query, answer.hits, guild_id, channel_id, answer_id)
        except RuntimeError:  # the bot is closing: the answer still goes, without buttons
            return None
        written.add_done_callback(self._written)
        return answer_id if kept else None

    async def settled(self) -> None:
        """Once every record queued so far is written (or failed, or was dropped): a report read then holds them."""
        await asyncio.wrap_future(self.writer.submit(int))

    async def vote(self, answer_id: int, user_id: int, value: int) -> bool:
        """Whether the vote was kept (False: the answer is unknown or votes are off); raises DatabaseError."""
        if self.store is None:
            return False
        try:
            recorded = await asyncio.get_running_loop().run_in_executor(self.writer, self.store.vote, answer_id,
                                                                        user_id, value)
        except DatabaseError as error:
            self._failed(error)
            raise
        self._kept()
        return recorded

    def _record(self, *record) -> bool:
        """Write an answer's record (on the writer thread); False when it was dropped untried, as writes failed
        less than RETRY_SECONDS ago."""
        if self.failing and time.monotonic() - self.failed_at < RETRY_SECONDS:
            return False
        self.store.record_answer(*record)
        return True

    def _written(self, written: Future) -> None:
        """How a queued record went; called on the writer thread."""
        error = written.exception()
        if isinstance(error, DatabaseError):
            self._failed(error)
        elif error is not None:  # a bug: nobody awaits this write, so the log must say it
            LOG.error("an answer could not be recorded", exc_info=error)
        elif written.result():
            self._kept()

    def _failed(self, error: DatabaseError) -> None:
        if not self.failing:
            LOG.warning("votes are not being kept, answers go out without vote buttons: %s", error)
        self.failing = True
        self.failed_at = time.monotonic()

    def _kept(self) -> None:
        if self.failing:
            LOG.info("votes are being kept again")
        self.failing = False

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=VOTE_ID):
    """A 👍 or 👎 under one answer; use a Votes' `button`, the subclass that records into it."""

    votes: ClassVar[Votes]

    def __init__(self, answer_id: int, vote: str) -> None:
        _, emoji, label = VOTES[vote]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=discord.ButtonStyle.secondary,
                                           custom_id=f"vote:{answer_id}:{vote}"))
        self.answer_id = answer_id
        self.vote = vote

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match) -> VoteButton:
        return cls(int(match["answer"]), match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        value, emoji, _ = VOTES[self.vote]
        # a busy database may hold the vote behind others for longer than Discord's 3 s to acknowledge
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            recorded = await self.votes.vote(self.answer_id, interaction.user.id, value)
            text = THANKS.format(emoji=emoji) if recorded else NOT_KEPT_ANY_MORE
        except DatabaseError:
            text = NOT_KEPT_NOW
        except Exception as error:  # discord.py only logs a dynamic item's errors: the voter must still hear back
            await answer_fault(interaction, error)
            return
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


def vote_view(answer_id: int, votes: Votes) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for vote in VOTES:
        view.add_item(votes.button(answer_id, vote))
    return view
