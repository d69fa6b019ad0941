"""Stopping without dropping anyone: the commands and questions being answered in, on SIGTERM/SIGINT a grace
period for them to finish, then a private "restarting" notice for each one still waiting, so nobody is left on
"thinking…"."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

LOG = logging.getLogger(__name__)
RESTARTING = "The bot is restarting, so this was not answered. Try again in a minute."
# Telling the askers still waiting is a handful of REST calls; a Discord that does not take them in this long
# must not keep the process from exiting (the process manager would kill it anyway).
NOTICE_SECONDS = 5.0

Tell = Callable[[str], Awaitable[None]]  # tells one asker something privately


@dataclass(eq=False)
class Asking:
    """One question being answered: the task answering it, and how to tell its asker privately."""

    task: asyncio.Task
    tell: Tell
    # what to tell instead of RESTARTING when the task is stopped (a change of a library says how far it got)
    stopped: Callable[[], str] | None = None


@dataclass
class InFlight:
    """The commands and questions being answered now. A handler asks `accepting` first (and tells the user
    `RESTARTING` itself when not), then has its task `track`ed until it ends. `drain` is the stop."""

    asking: set[Asking] = field(default_factory=set)
    stopping: bool = False
    hurry: asyncio.Event = field(default_factory=asyncio.Event)  # a second signal: the grace period ends now
    refused: set[int] = field(default_factory=set)  # users told by message that the bot is restarting

    @property
    def accepting(self) -> bool:
        return not self.stopping

    def first_refusal(self, user_id: int) -> bool:
        """Whether a user asking by message while the bot stops has not been told yet (a flood gets one DM)."""
        if user_id in self.refused:
            return False
        self.refused.add(user_id)
        return True

    def track(self, tell: Tell) -> None:
        """The running task answers someone, whom `tell` reaches privately; kept until the task ends."""
        task = asyncio.current_task()
        assert task is not None, "track runs in a task"
        entry = Asking(task, tell)
        self.asking.add(entry)
        task.add_done_callback(lambda _: self.asking.discard(entry))

    def on_stop(self, stopped: Callable[[], str]) -> None:
        """What the running task's asker is told should a stop cut it short: `stopped()`, asked then."""
        for entry in self.asking:
            if entry.task is asyncio.current_task():
                entry.stopped = stopped

    async def drain(self, grace_seconds: float) -> int:
        """Take no new questions, give those being answered `grace_seconds` to finish, then stop the rest and
        tell their askers privately that the bot is restarting. Returns how many were told."""
        self.stopping = True
        waiting = {entry.task for entry in self.asking}
        LOG.info("stopping: %d question(s) being answered get up to %g s to finish", len(waiting), grace_seconds)
        if waiting:
            finished = asyncio.ensure_future(asyncio.wait(waiting))
            hurried = asyncio.ensure_future(self.hurry.wait())
            await asyncio.wait({finished, hurried}, timeout=grace_seconds, return_when=asyncio.FIRST_COMPLETED)
            finished.cancel()
            hurried.cancel()
        # what came in during the grace period was refused by `accepting`; the rest still in hand are stopped
        left = list(self.asking)
        for entry in left:
            entry.task.cancel()
        if left:
            await asyncio.wait({entry.task for entry in left}, timeout=NOTICE_SECONDS)
            try:
                told = await asyncio.wait_for(asyncio.gather(*(entry.tell(notice(entry)) for entry in left),
                                                             return_exceptions=True), NOTICE_SECONDS)
            except TimeoutError:
                told = [TimeoutError(f"Discord did not take the notices within {NOTICE_SECONDS:g} s")]
            for failure in (t for t in told if isinstance(t, BaseException)):
                LOG.warning("could not tell an asker that the bot is restarting: %s", failure)
        LOG.info("stopping: %d question(s) not finished in time were told the bot is restarting", len(left))
        return len(left)


def notice(entry: Asking) -> str:
    return RESTARTING if entry.stopped is None else entry.stopped()
