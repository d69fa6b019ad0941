"""Which messages are questions, what the question is, and who must wait before asking again."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from retrieval.config import BotConfig


@dataclass(frozen=True)
class Incoming:
    """The parts of a Discord message that decide whether it is a question for us."""

    content: str
    author_is_bot: bool
    is_direct: bool
    channel_id: int
    parent_channel_id: int | None  # a thread's channel, so threads of question channels count too
    mentions_us: bool


def question_from(message: Incoming, bot_id: int, config: BotConfig) -> str | None:
    """The question a message asks of us, or None when it is not for us or has no text."""
    if message.author_is_bot:
        return None
    if message.is_direct:
        wanted = config.answer_direct_messages
    else:
        in_question_channel = bool({message.channel_id, message.parent_channel_id} & set(config.question_channels))
        wanted = in_question_channel or message.mentions_us or not config.require_mention
    if not wanted:
        return None
    text = re.sub(rf"<@!?{bot_id}>", " ", message.content)
    return " ".join(text.split()) or None


@dataclass
class Cooldown:
    """Per-user spacing between questions; `retry_after` says how long a user must still wait (0 = go)."""

    seconds: float
    last_asked: dict[int, float] = field(default_factory=dict)

    def retry_after(self, user_id: int, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        wait = self.last_asked.get(user_id, -float("inf")) + self.seconds - now
        if wait > 0:
            return wait
        self.last_asked[user_id] = now
        return 0.0
