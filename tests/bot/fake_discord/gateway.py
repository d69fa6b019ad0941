"""The fake gateway: HELLO, heartbeats, IDENTIFY/RESUME, shards, and dispatches over plain JSON text frames."""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from .codes import THREAD_TYPES
from .model import Payload, World
from .waiting import Changes

INTENT_GUILDS = 1 << 0
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
APP_FLAG_GATEWAY_MESSAGE_CONTENT = 1 << 19
CLIENT_OPS = {1, 2, 3, 4, 6, 8, 31}  # heartbeat, identify, presence, voice state, resume, members, soundboard


@dataclass
class Heartbeat:
    """One HEARTBEAT (op 1) and its HEARTBEAT_ACK (op 11), in event-loop time."""

    shard_id: int | None
    sequence: int | None
    received_at: float
    acked_at: float

    @property
    def ack_delay(self) -> float:
        return self.acked_at - self.received_at


@dataclass
class GatewayFrame:
    """A gateway payload sent ("out") or received ("in"), without its data."""

    direction: str
    op: int
    t: str | None
    shard_id: int | None
    session_id: str | None
    path: str


@dataclass
class GatewaySession:
    """One IDENTIFYed session; it outlives its websocket when the client RESUMEs."""

    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    sharded: bool
    seq: int = 0
    resumes: int = 0

    def owns(self, guild_id: int | None) -> bool:
        """Whether events for ``guild_id`` (None: DMs, shard 0) go to this session's shard."""
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id


@dataclass
class GatewayConnection:
    """One websocket; ``live`` once READY or RESUMED was sent, until it closes or is told to RECONNECT."""

    ws: web.WebSocketResponse
    path: str
    query: dict[str, str]
    session: GatewaySession | None = None
    live: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Gateway:
    """Serves the gateway websocket and routes dispatches to the shard that owns each guild."""

    def __init__(self, *, world: World, token: str, application_id: int, heartbeat_interval_ms: int,
                 message_content_intent_granted: bool, changes: Changes) -> None:
        self.world = world
        self.token = token
        self.application_id = application_id
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.message_content_intent_granted = message_content_intent_granted
        self.changes = changes
        self.resume_url = ""
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.heartbeats: list[Heartbeat] = []
        self.frames: list[GatewayFrame] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = GatewayConnection(ws=ws, path=request.path, query=dict(request.query))
        self.connections.append(conn)
        try:
            await self._send(conn, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                await self._receive(conn, json.loads(msg.data))
        finally:
            conn.live = False
            self.connections.remove(conn)
            self.changes.notify()
        return ws

    async def _receive(self, conn: GatewayConnection, payload: Payload) -> None:
        op, data = payload.get("op"), payload.get("d")
        shard_id, session_id = _ids(conn)
        self.frames.append(GatewayFrame("in", op, None, shard_id, session_id, conn.path))
        if op == 1:
            received = asyncio.get_running_loop().time()
            await self._send(conn, {"op": 11})
            acked = asyncio.get_running_loop().time()
            self.heartbeats.append(Heartbeat(shard_id, data, received, acked))
        elif op not in CLIENT_OPS:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")
        elif op in (2, 6) and conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
        elif op == 2:
            await self._identify(conn, data)
        elif op == 6:
            await self._resume(conn, data)
        elif op == 8 and conn.session is not None:
            await self._members_chunk(conn, data)
        self.changes.notify()

    async def _identify(self, conn: GatewayConnection, data: Payload) -> None:
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard_id, shard_count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < shard_count:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        intents = data.get("intents", 0)
        if intents & INTENT_MESSAGE_CONTENT and not self.message_content_intent_granted:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session = GatewaySession(secrets.token_hex(16), shard_id, shard_count, intents, "shard" in data)
        self.sessions[session.session_id] = session
        conn.session = session
        guild_ids = [g for g in self.world.guilds if session.owns(g)]
        flags = APP_FLAG_GATEWAY_MESSAGE_CONTENT if self.message_content_intent_granted else 0
        ready: Payload = {
            "v": 10, "user": {**self.world.users[self.world.bot_user_id], "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "session_id": session.session_id, "session_type": "normal", "resume_gateway_url": self.resume_url,
            "application": {"id": str(self.application_id), "flags": flags},
            "private_channels": [], "relationships": [], "user_settings": {}, "geo_ordered_rtc_regions": [],
        }
        if session.sharded:
            ready["shard"] = [shard_id, shard_count]
        await self._dispatch(conn, "READY", ready)
        if intents & INTENT_GUILDS:
            for guild_id in guild_ids:
                await self._dispatch(conn, "GUILD_CREATE", self.guild_create(guild_id, intents))
        conn.live = True

    def guild_create(self, guild_id: int, intents: int) -> Payload:
        """Without GUILD_PRESENCES, Discord lists only the bot itself in ``members``."""
        guild = copy.deepcopy(self.world.guilds[guild_id])
        if not intents & INTENT_GUILD_PRESENCES:
            guild["members"] = [m for m in guild["members"] if m["user"]["id"] == str(self.world.bot_user_id)]
        guild["threads"] = [
            c for c in self.world.channels.values() if c.get("guild_id") == str(guild_id) and c["type"] in THREAD_TYPES
        ]
        return guild

    async def _resume(self, conn: GatewayConnection, data: Payload) -> None:
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = self.sessions.get(data.get("session_id", ""))
        if session is None:
            await self._send(conn, {"op": 9, "d": False})
            return
        for other in self.connections:
            if other.session is session and other is not conn:
                other.live = False
        conn.session = session
        session.resumes += 1
        await self._dispatch(conn, "RESUMED", {})
        conn.live = True

    async def _members_chunk(self, conn: GatewayConnection, data: Payload) -> None:
        guild_id = int(data["guild_id"])
        chunk = {"guild_id": str(guild_id), "members": self.world.guilds[guild_id]["members"],
                 "chunk_index": 0, "chunk_count": 1, "not_found": []}
        if "nonce" in data:
            chunk["nonce"] = data["nonce"]
        await self._dispatch(conn, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send(self, conn: GatewayConnection, payload: Payload) -> None:
        self.frames.append(GatewayFrame("out", payload["op"], payload.get("t"), *_ids(conn), conn.path))
        async with conn.lock:
            await conn.ws.send_str(json.dumps(payload))

    async def _dispatch(self, conn: GatewayConnection, event: str, data: Payload) -> None:
        assert conn.session is not None
        conn.session.seq += 1
        await self._send(conn, {"op": 0, "t": event, "s": conn.session.seq, "d": data})

    # -- used by the fake ----------------------------------------------------------------------------

    def live_connections(self, guild_id: int | None) -> list[GatewayConnection]:
        return [c for c in self.connections if c.live and c.session and c.session.owns(guild_id)]

    async def dispatch(self, event: str, build: Callable[[GatewaySession], Payload | None], *,
                       guild_id: int | None, wait: float | None = None) -> int:
        """Send ``build(session)`` to every live session owning ``guild_id`` (None skips that session).

        With ``wait``, first wait that long for such a connection (e.g. during a RESUME). Returns the
        number of sessions the event was delivered to.
        """
        if wait is not None:
            await self.changes.wait_until(lambda: self.live_connections(guild_id), wait,
                                          f"a live gateway connection for guild {guild_id}")
        delivered = 0
        for conn in self.live_connections(guild_id):
            assert conn.session is not None
            data = build(conn.session)
            if data is not None:
                await self._dispatch(conn, event, data)
                delivered += 1
        return delivered

    async def dispatch_message(self, event: str, message: Payload, *, wait: float | None = None) -> int:
        """MESSAGE_CREATE/UPDATE to sessions with the right intent, content redacted as Discord does."""
        guild_id = int(message["guild_id"]) if "guild_id" in message else None
        intent = INTENT_GUILD_MESSAGES if guild_id is not None else INTENT_DIRECT_MESSAGES

        def build(session: GatewaySession) -> Payload | None:
            if not session.intents & intent:
                return None
            return redact_content(message, session, self.world.bot_user_id)

        return await self.dispatch(event, build, guild_id=guild_id, wait=wait)

    async def reconnect(self, shard_id: int, timeout: float) -> GatewaySession:
        """Send RECONNECT (op 7) to the shard and wait until its session has RESUMEd on a new socket."""
        conns = await self.changes.wait_until(
            lambda: [c for c in self.connections if c.live and c.session and c.session.shard_id == shard_id],
            timeout, f"a live connection for shard {shard_id}")
        conn = conns[0]
        session = conn.session
        assert session is not None
        resumes = session.resumes
        conn.live = False
        await self._send(conn, {"op": 7, "d": None})
        await self.changes.wait_until(
            lambda: session.resumes > resumes and any(c.live and c.session is session for c in self.connections),
            timeout, f"shard {shard_id} to RESUME")
        return session

    async def close(self) -> None:
        for conn in list(self.connections):
            conn.live = False
            await conn.ws.close(code=1001, message=b"fake Discord stopped")


def redact_content(message: Payload, session: GatewaySession, bot_user_id: int) -> Payload:
    """Message as that session sees it: content, embeds, attachments and components are empty without
    the message-content intent, unless the bot wrote it, is mentioned, or it is a DM."""
    if session.intents & INTENT_MESSAGE_CONTENT or "guild_id" not in message:
        return message
    if message["author"]["id"] == str(bot_user_id):
        return message
    if any(user["id"] == str(bot_user_id) for user in message.get("mentions", [])):
        return message
    return {**message, "content": "", "embeds": [], "attachments": [], "components": []}


def _ids(conn: GatewayConnection) -> tuple[int | None, str | None]:
    """(shard id, session id) of a connection, both None before IDENTIFY/RESUME."""
    return (conn.session.shard_id, conn.session.session_id) if conn.session else (None, None)
