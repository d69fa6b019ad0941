"""Which messages are questions, what the question is, and who must wait before asking again."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from .config import BotConfig


@dataclass(frozen=True)
class Incoming:
    """The parts of a Discord message that decide whether it is a question for us."""

    content: str
    author_is_bot: bool
    is_direct: bool
    channel_id: int
    parent_channel_id: int | None  # a thread's channel, so threads of question channels count too
    mentions_us: bool
    in_answered_thread: bool = False  # a thread the bot answered in: its messages are follow-ups


def question_from(message: Incoming, bot_id: int, config: BotConfig,
                  question_channels: Iterable[int] | None = None) -> str | None:
    """The question a message asks of us, or None when it is not for us or has no text. `question_channels`
    are the server's (the config's when None)."""
    if message.author_is_bot:
        return None
    if message.is_direct:
        wanted = config.answer_direct_messages
    else:
        in_question_channel = bool({message.channel_id, message.parent_channel_id} & set(
            config.question_channels if question_channels is None else question_channels))
        wanted = in_question_channel or message.in_answered_thread or message.mentions_us or \
            not config.require_mention
    if not wanted:
        return None
    text = re.sub(rf"<@!?{bot_id}>", " ", message.content)
    return " ".join(text.split()) or None


class Turns:
    """Replies in a channel go out in the order the questions came in, though searches may finish otherwise."""

    def __init__(self) -> None:
        self.last: dict[int, asyncio.Future[None]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, channel_id: int) -> AsyncIterator[Callable[[], Awaitable[None]]]:
        """Enter on a question's arrival; await the yielded function before replying. Leaving, even by an
        error, lets the next question in the channel reply."""
        previous = self.last.get(channel_id)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last[channel_id] = mine

        async def after_previous() -> None:
            if previous is not None:
                await asyncio.shield(previous)
        def release(_: object = None) -> None:
            mine.set_result(None)
            if self.last.get(channel_id) is mine:
                del self.last[channel_id]
        try:
            yield after_previous
        finally:  # a question that failed early must still not let the next one overtake those before it
            if previous is None or previous.done():
                release()
            else:
                previous.add_done_callback(release)


@dataclass
class Cooldown:
    """Per-user spacing between questions; `retry_after` says how long a user must still wait (0 = go), and
    `first_notice` whether to tell them so: once per window, so a flood of messages gets one notice, not one each."""

    seconds: float
    last_asked: dict[int, float] = field(default_factory=dict)
    told: dict[int, float] = field(default_factory=dict)  # user -> the window (its start) they were told about

    def retry_after(self, user_id: int, now: float | None = None, seconds: float | None = None) -> float:
        """`seconds`: the server's own spacing, when it set one."""
        now = time.monotonic() if now is None else now
        spacing = self.seconds if seconds is None else seconds
        wait = self.last_asked.get(user_id, -float("inf")) + spacing - now
        if wait > 0:
            return wait
        self.last_asked[user_id] = now
        return 0.0

    def first_notice(self, user_id: int) -> bool:
        """Whether this user, asking too soon, has not been told yet in this window; counts them as told."""
        window = self.last_asked.get(user_id)
        if window is None or self.told.get(user_id) == window:
            return False
        self.told[user_id] = window
        return True
