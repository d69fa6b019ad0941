"""The retrieval service's defences, so that slow or many clients cannot starve the rest: each request must
arrive whole within a deadline, open connections are capped (the one waiting longest for its request makes room
for a new one), requests in progress are capped (503 beyond), and an optional bearer token is required. uvicorn's
h11 protocol extended for the first two (uvicorn has no header or body timeout), an ASGI wrapper for the rest."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..settings import ServeSettings
from .client import TOKEN_VARIABLE

LOG = logging.getLogger(__name__)
__all__ = ["TOKEN_VARIABLE", "Guard", "protocol_for"]
OPEN_PATHS = frozenset({"/health"})  # what a load balancer's or process manager's health check may ask untokened
Scope = dict[str, Any]


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request to arrive whole (headers and body: bytes that
    trickle in do not extend it, as they do uvicorn's keep-alive timeout) and a cap on open connections. Use
    `protocol_for`, which sets the two limits."""

    request_seconds: ClassVar[float]
    max_connections: ClassVar[int]
    # The server's connections waiting for a request, longest-waiting first (a dict keeps the order they began in),
    # so making room costs one step, not a scan of every connection, however many a flood opens.
    waiting: ClassVar[dict[GuardedH11, None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections and not self.make_room():
            self.drop()  # every other connection is being answered: this one waits for none of them
            return
        self.await_request()

    def make_room(self) -> bool:
        """Close the connection that has waited longest for its request; False when all are being answered."""
        oldest = next(iter(self.waiting), None)
        if oldest is None:
            return False
        oldest.drop()
        return True

    def await_request(self) -> None:
        self.stop_waiting()
        self.waiting[self] = None
        self.deadline = self.loop.call_later(self.request_seconds, self.drop)

    def stop_waiting(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = None
        self.waiting.pop(self, None)

    def drop(self) -> None:
        """Close a connection whose request did not arrive in time (or that must make room)."""
        self.stop_waiting()
        self.connections.discard(self)
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self in self.waiting and self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self.stop_waiting()  # the request is in whole: answering it has no deadline here

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self.await_request()  # kept alive: the next request has the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_waiting()
        super().connection_lost(exc)


def protocol_for(settings: ServeSettings) -> type[GuardedH11]:
    """The protocol class for one server: its limits, and its own record of the connections waiting."""
    return type("ServiceH11", (GuardedH11,), {"request_seconds": settings.request_timeout_seconds,
                                              "max_connections": settings.max_connections, "waiting": {}})


class Guard:
    """ASGI wrapper: at most `max_requests` requests in progress (a 503 with Retry-After beyond, at once, rather
    than a queue that grows), and with a token every path but OPEN_PATHS needs `Authorization: Bearer TOKEN`."""

    def __init__(self, app: Any, max_requests: int, token: str | None = None) -> None:
        self.app = app
        self.max_requests = max_requests
        self.token = token.encode() if token else None
        self.in_progress = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        if self.token is not None and scope["path"] not in OPEN_PATHS and not self.authorised(scope):
            await refuse(send, 401, "a bearer token is needed (Authorization: Bearer ...)",
                         [(b"www-authenticate", b"Bearer")])
            return
        if self.in_progress >= self.max_requests:
            await refuse(send, 503, "too many requests in progress; try again", [(b"retry-after", b"1")])
            return
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1

    def authorised(self, scope: Scope) -> bool:
        given = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, credential = given.partition(b" ")
        assert self.token is not None
        return scheme.lower() == b"bearer" and hmac.compare_digest(credential.strip(), self.token)


async def refuse(send: Any, status: int, error: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})
