"""A handle on one interaction the fake sent: everything the bot did with its id and token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .codes import Callback, InteractionType
from .model import Payload
from .waiting import Changes

APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = InteractionType
# the callbacks each interaction type accepts
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {Callback.CHANNEL_MESSAGE, Callback.DEFERRED_CHANNEL_MESSAGE, Callback.MODAL},
    MESSAGE_COMPONENT: {Callback.CHANNEL_MESSAGE, Callback.DEFERRED_CHANNEL_MESSAGE, Callback.DEFERRED_UPDATE_MESSAGE,
                        Callback.UPDATE_MESSAGE, Callback.MODAL},
    AUTOCOMPLETE: {Callback.AUTOCOMPLETE_RESULT},
}


@dataclass
class Rejection:
    """A request about this interaction that the fake refused, with Discord's error body."""

    method: str
    path: str
    status: int
    error: Payload


class InteractionHandle:
    """What the bot did with one interaction: its callback, the @original message, follow-ups and edits."""

    def __init__(self, payload: Payload, created_at: float, deadline: float, changes: Changes) -> None:
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.created_at = created_at
        self.deadline = deadline
        self.responses: list[Payload] = []
        self.followups: list[Payload] = []
        self.edits: list[Payload] = []
        self.rejections: list[Rejection] = []
        self.original: Payload | None = payload.get("message") if self.type == MESSAGE_COMPONENT else None
        self.original_deleted = False
        self._changes = changes

    def __repr__(self) -> str:
        return f"<InteractionHandle id={self.id} type={self.type} responses={len(self.responses)}>"

    @property
    def response(self) -> Payload | None:
        """The accepted callback body ({"type": ..., "data": ...}), or None before the bot acknowledged."""
        return self.responses[0] if self.responses else None

    @property
    def acknowledged(self) -> bool:
        return bool(self.responses)

    @property
    def ephemeral(self) -> bool:
        data = (self.response or {}).get("data") or {}
        return bool((data.get("flags") or 0) & 64)

    async def wait_response(self, timeout: float = 5.0) -> Payload:
        """Wait for the callback the bot sent (a Callback type) and return its body."""
        return await self._changes.wait_until(lambda: self.response, timeout, f"a response to interaction {self.id}")

    async def wait_followups(self, n: int = 1, timeout: float = 5.0) -> list[Payload]:
        """Wait until the bot created ``n`` follow-up messages; return them (message objects)."""
        return await self._changes.wait_until(
            lambda: self.followups if len(self.followups) >= n else None, timeout, f"{n} follow-up(s) to {self.id}")

    async def wait_edits(self, n: int = 1, timeout: float = 5.0) -> list[Payload]:
        """Wait until the bot sent ``n`` edits (PATCH bodies of @original or a follow-up); return the bodies."""
        return await self._changes.wait_until(
            lambda: self.edits if len(self.edits) >= n else None, timeout, f"{n} edit(s) for {self.id}")

    async def wait_rejections(self, n: int = 1, timeout: float = 5.0) -> list[Rejection]:
        """Wait until ``n`` requests about this interaction were refused (late ack, double ack, limits...)."""
        return await self._changes.wait_until(
            lambda: self.rejections if len(self.rejections) >= n else None, timeout, f"{n} rejection(s) for {self.id}")

    async def wait_original(self, predicate: Callable[[Payload], bool] | None = None,
                            timeout: float = 5.0) -> Payload:
        """Wait until @original exists (and satisfies ``predicate(message)`` if given); return the message."""
        def check() -> Payload | None:
            if self.original is not None and (predicate is None or predicate(self.original)):
                return self.original
            return None

        return await self._changes.wait_until(check, timeout, f"the original response of {self.id}")
