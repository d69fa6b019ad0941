"""FakeDiscord: a small, faithful Discord (REST + gateway) on 127.0.0.1 for driving a real discord.py bot."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from .codes import CommandType, OptionType
from .gateway import Gateway, GatewayFrame, GatewaySession, Heartbeat
from .interactions import APPLICATION_COMMAND, AUTOCOMPLETE, MESSAGE_COMPONENT, InteractionHandle
from .model import Payload, Snowflakes, World
from .rest import RecordedRequest, RestApi, Violation
from .waiting import Changes

DEFAULT_BOT_USER_ID = 1_100_000_000_000_000_001
DEFAULT_APPLICATION_ID = 1_100_000_000_000_000_002
DEFAULT_GUILD_ID = 1_200_000_000_000_000_000
T = TypeVar("T")
ClientT = TypeVar("ClientT", bound=discord.Client)
OPTION_TYPES: dict[type, int] = {str: OptionType.STRING, int: OptionType.INTEGER, bool: OptionType.BOOLEAN,
                                  float: OptionType.NUMBER}


class FakeDiscord:
    """A fake Discord server. Start it, `patch_discord()`, then run a real bot against it.

    ``async with FakeDiscord() as fake:`` starts, patches discord.py and stops again. Every REST call is
    in ``requests``; whatever Discord would refuse (or the project forbids) is in ``violations``.
    """

    def __init__(self, *, token: str = "test-token", bot_user_id: int = DEFAULT_BOT_USER_ID,
                 application_id: int = DEFAULT_APPLICATION_ID, guild_ids: tuple[int, ...] = (DEFAULT_GUILD_ID,),
                 shard_count: int = 1, message_content_intent_granted: bool = True,
                 interaction_deadline: float = 3.0, heartbeat_interval: float = 0.2) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.token = token
        self.bot_user_id = bot_user_id
        self.application_id = application_id
        self.guild_ids = guild_ids
        self.changes = Changes()
        self.world = World(bot_user_id=bot_user_id, bot_name="testbot", guild_ids=guild_ids, ids=Snowflakes())
        self.gateway = Gateway(world=self.world, token=token, application_id=application_id,
                               heartbeat_interval_ms=int(heartbeat_interval * 1000),
                               message_content_intent_granted=message_content_intent_granted, changes=self.changes)
        self.rest = RestApi(world=self.world, gateway=self.gateway, changes=self.changes, token=token,
                            application_id=application_id, interaction_deadline=interaction_deadline,
                            shard_count=shard_count, message_content_intent_granted=message_content_intent_granted)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._saved: tuple[str, yarl.URL] | None = None
        self.uploads: dict[int, tuple[Payload, bytes]] = {}  # attachment id -> (attachment object, its bytes)

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 with a free port."""
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app.router.add_get("/attachments/{attachment}/{filename}", self._get_upload)  # Discord's CDN
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.rest.gateway_url = self.gateway_url
        self.gateway.resume_url = f"ws://127.0.0.1:{self._port}/gateway-resume"

    @contextlib.asynccontextmanager
    async def running(self, client: ClientT) -> AsyncIterator[ClientT]:
        """Log a real discord.py client in (runs setup_hook), connect it, wait until ready; close it after."""
        await client.login(self.token)
        connect = asyncio.create_task(client.connect(reconnect=True))
        ready = asyncio.create_task(client.wait_until_ready())
        try:
            done, _ = await asyncio.wait({connect, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
            if connect in done:
                connect.result()  # re-raise why the connection ended
            assert ready in done, "the client never became ready"
            yield client
        finally:
            ready.cancel()
            await client.close()
            await connect

    async def stop(self) -> None:
        """Close gateway sockets, stop serving, and undo `patch_discord`."""
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    def patch_discord(self) -> None:
        """Point discord.py's REST base and default gateway at this server (restored by `stop`)."""
        if self._saved is None:
            self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self.base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self.patch_discord()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    # -- the world -----------------------------------------------------------------------------------

    @property
    def guild_id(self) -> int:
        return self.guild_ids[0]

    def add_human(self, name: str) -> int:
        """Another human member of every guild; returns the user id."""
        return self.world.add_human(name)

    def add_manager(self, name: str, guild_id: int) -> int:
        """Another human member of every guild, with Manage Server in `guild_id` only; returns the user id."""
        return self.world.add_manager(name, guild_id)

    async def remove_bot(self, guild_id: int, *, outage: bool = False) -> None:
        """The bot is kicked from a guild (or the guild deleted): GUILD_DELETE without `unavailable`, which is
        how Discord tells a removal from an outage (`outage`: `unavailable: true`, the guild stays)."""
        if outage:
            await self.gateway.dispatch("GUILD_DELETE", lambda _: {"id": str(guild_id), "unavailable": True},
                                        guild_id=guild_id)
            self.changes.notify()
            return
        self.world.departed[guild_id] = self.world.guilds.pop(guild_id)
        await self.gateway.dispatch("GUILD_DELETE", lambda _: {"id": str(guild_id)}, guild_id=guild_id)
        self.changes.notify()

    async def add_bot(self, guild_id: int) -> None:
        """The bot is invited back to a guild it was removed from: GUILD_CREATE without `unavailable` (which
        marks a guild coming back from an outage), so discord.py tells its client of a join."""
        self.world.guilds[guild_id] = self.world.departed.pop(guild_id)

        def joined(session: GatewaySession) -> Payload:
            guild = self.gateway.guild_create(guild_id, session.intents)
            guild.pop("unavailable", None)
            return guild

        await self.gateway.dispatch("GUILD_CREATE", joined, guild_id=guild_id)
        self.changes.notify()

    @property
    def human_ids(self) -> list[int]:
        """User ids of the human members ("alice", a Moderator, then "bob", then any added)."""
        return list(self.world.human_ids)

    @property
    def other_bot_id(self) -> int:
        return self.world.other_bot_id

    def channel_id(self, name: str = "general", guild_id: int | None = None) -> int:
        """Id of #general or #questions (first guild unless ``guild_id``)."""
        return self.world.channel_id(name, guild_id)

    def dm_channel_id(self, user_id: int | None = None) -> int:
        return int(self.world.dm_channel(user_id or self.world.human_ids[0])["id"])

    def message(self, message_id: int | str) -> Payload:
        """The stored message object, as it is now (after edits)."""
        return self.world.messages[int(message_id)]

    # -- what the bot did ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.rest.requests

    @property
    def violations(self) -> list[Violation]:
        return self.rest.violations

    @property
    def heartbeats(self) -> list[Heartbeat]:
        return self.gateway.heartbeats

    @property
    def gateway_frames(self) -> list[GatewayFrame]:
        return self.gateway.frames

    @property
    def sessions(self) -> list[GatewaySession]:
        return list(self.gateway.sessions.values())

    @property
    def commands(self) -> list[Payload]:
        """Commands as last synced, global and per guild (guild commands carry ``guild_id``)."""
        return [command for scope in self.rest.commands.values() for command in scope]

    @property
    def interactions(self) -> list[InteractionHandle]:
        return list(self.rest.interactions.values())

    def sent_messages(self, channel_id: int | None = None) -> list[Payload]:
        """Bodies the bot POSTed to /channels/{id}/messages (accepted only), plus ``id`` and ``channel_id``."""
        return [m for m in self.rest.sent if channel_id is None or m["channel_id"] == str(channel_id)]

    async def wait_until(self, check: Callable[[], T | None], timeout: float = 5.0, what: str = "a condition") -> T:
        """Return the first truthy ``check()``, re-checked whenever the fake records something."""
        return await self.changes.wait_until(check, timeout, what)

    async def wait_for(self, predicate: Callable[[RecordedRequest], bool], timeout: float = 5.0) -> RecordedRequest:
        """First recorded REST request (answered) matching ``predicate``."""
        def check() -> RecordedRequest | None:
            return next((r for r in self.rest.requests if r.status and predicate(r)), None)

        return await self.changes.wait_until(check, timeout, "a matching request")

    async def wait_sent(self, n: int = 1, *, channel_id: int | None = None, timeout: float = 5.0) -> list[Payload]:
        """Wait until the bot has sent ``n`` channel messages (in ``channel_id`` if given); return them."""
        def check() -> list[Payload] | None:
            sent = self.sent_messages(channel_id)
            return sent if len(sent) >= n else None

        return await self.changes.wait_until(check, timeout, f"{n} sent message(s)")

    # -- things tests drive --------------------------------------------------------------------------

    async def send_message(self, content: str, *, channel_id: int | None = None, author: int | None = None,
                           bot_author: bool = False, dm: bool = False, mention_bot: bool = False,
                           embeds: list[Payload] | None = None, timeout: float = 5.0) -> Payload:
        """A member posts a message: MESSAGE_CREATE goes to the shard owning the guild. Returns the full
        message (before content redaction). Mentions are parsed from ``<@id>`` in the content."""
        author = author or (self.world.other_bot_id if bot_author else self.world.human_ids[0])
        if dm:
            channel_id = int(self.world.dm_channel(author)["id"])
        channel_id = channel_id or self.channel_id("general")
        if mention_bot:
            content = f"<@{self.bot_user_id}> {content}"
        message = self.world.add_message(channel_id, author, {"content": content, "embeds": embeds or []})
        await self.gateway.dispatch_message("MESSAGE_CREATE", message, wait=timeout)
        self.changes.notify()
        return message

    async def send_interaction(self, name: str | None = None, options: dict[str, Any] | list[Payload] | None = None,
                               *, type: int | None = None, focused: str | None = None,
                               custom_id: str | None = None, values: list[str] | None = None,
                               message: Payload | int | str | None = None, user: int | None = None,
                               channel_id: int | None = None, dm: bool = False, locale: str = "en-US",
                               target: Payload | None = None, timeout: float = 5.0) -> InteractionHandle:
        """Dispatch INTERACTION_CREATE and return a handle on what the bot does with it.

        ``type`` defaults to MESSAGE_COMPONENT with ``custom_id``, AUTOCOMPLETE with ``focused`` (the name of
        the option being typed), else APPLICATION_COMMAND (slash command ``name``; it must have been synced; a
        message command is given the ``target`` message, which Discord sends whole in ``resolved.messages``).
        ``options`` maps option names to values (types come from the synced command) or is a raw option list. A
        component interaction needs the ``message`` (object or id) the component is on.
        """
        kind = type or (MESSAGE_COMPONENT if custom_id else AUTOCOMPLETE if focused else APPLICATION_COMMAND)
        user_id = user or self.world.human_ids[0]
        stored = self.message(message["id"] if isinstance(message, dict) else message) if message else None
        if stored is not None or target is not None:
            channel_id = int((stored or target)["channel_id"])
        elif dm:
            channel_id = int(self.world.dm_channel(user_id)["id"])
        channel_id = channel_id or self.channel_id("general")
        guild_id = self.world.guild_of(channel_id)
        if kind == MESSAGE_COMPONENT:
            if stored is None or custom_id is None:
                raise ValueError("a component interaction needs message= and custom_id=")
            data = _component_data(stored, custom_id, values)
        else:
            if name is None:
                raise ValueError("a command interaction needs the command name")
            data = self._command_data(name, options, guild_id, kind, focused)
            if target is not None:
                data["target_id"] = target["id"]
                # a message command gets the message's content whatever the bot's intents
                data.setdefault("resolved", {})["messages"] = {target["id"]: copy.deepcopy(self.message(target["id"]))}
        payload = self._interaction_payload(kind, data, user_id, channel_id, guild_id, locale)
        if stored is not None:
            payload["message"] = copy.deepcopy(stored)
        handle = InteractionHandle(payload, 0.0, self.rest.interaction_deadline, self.changes)
        if stored is not None:
            handle.original = stored
        self.rest.interactions[handle.id] = handle
        await self.changes.wait_until(lambda: self.gateway.live_connections(guild_id), timeout,
                                      "a live gateway connection")
        handle.created_at = asyncio.get_running_loop().time()
        await self.gateway.dispatch("INTERACTION_CREATE", lambda _: payload, guild_id=guild_id)
        self.changes.notify()
        return handle

    async def deny_bot(self, channel_id: int, permissions: int) -> None:
        """A moderator takes ``permissions`` from the bot in a guild channel (a member overwrite). The bot hears
        of it by CHANNEL_UPDATE; Discord then refuses what needs them with 403 Missing Permissions (50013)."""
        channel = self.world.deny(channel_id, self.bot_user_id, permissions)
        await self.gateway.dispatch("CHANNEL_UPDATE", lambda _: channel, guild_id=int(channel["guild_id"]))
        self.changes.notify()

    def fail_channel(self, channel_id: int, status: int | None = 503) -> None:
        """Discord fails: every REST call on the channel answers ``status`` (a 5xx) until set back to None.
        (discord.py retries 500, 502, 504 and 524 for about 25 s before giving up; 503 fails at once.)"""
        if status is None:
            self.rest.failing_channels.pop(channel_id, None)
        else:
            self.rest.failing_channels[channel_id] = status

    async def send_reconnect(self, shard_id: int = 0, timeout: float = 5.0) -> GatewaySession:
        """Gateway op 7 RECONNECT; returns once the client RESUMEd (op 6) on a new socket and got RESUMED."""
        return await self.gateway.reconnect(shard_id, timeout)

    # -- forums --------------------------------------------------------------------------------------

    def add_forum(self, name: str = "help", tags: tuple[str, ...] = ("answered", "bug")) -> int:
        """A forum channel in the first guild, before the bot connects (it comes in GUILD_CREATE)."""
        return int(self.world.add_forum(self.guild_ids[0], name, tags)["id"])

    async def post_in_forum(self, forum_id: int, title: str, content: str, *, author: int | None = None,
                            tags: tuple[str, ...] = (), timeout: float = 5.0) -> Payload:
        """A member opens a forum post: THREAD_CREATE, then MESSAGE_CREATE of its starter message, whose id is the
        thread's. Returns the thread."""
        author = author or self.world.human_ids[0]
        forum = self.world.channels[forum_id]
        tag_ids = [t["id"] for t in forum["available_tags"] if t["name"] in tags]
        thread = self.world.add_thread(forum_id, title, author)
        thread.update({"applied_tags": tag_ids, "message_count": 1})
        guild_id = self.world.guild_of(forum_id)
        await self.gateway.dispatch("THREAD_CREATE", lambda _: {**thread, "newly_created": True}, guild_id=guild_id)
        starter = self.world.add_message(int(thread["id"]), author, {"content": content},
                                         message_id=int(thread["id"]))
        await self.gateway.dispatch_message("MESSAGE_CREATE", starter, wait=timeout)
        self.changes.notify()
        return thread

    # -- attachments ---------------------------------------------------------------------------------

    def upload(self, filename: str, data: bytes, content_type: str | None = None) -> str:
        """A file a user attached to a command: its id, the value of an attachment option (type 11). Discord
        serves it from its CDN, here from this server's /attachments/."""
        attachment_id = self.world.ids.next()
        url = f"http://127.0.0.1:{self._port}/attachments/{attachment_id}/{filename}"
        attachment = {"id": str(attachment_id), "filename": filename, "size": len(data), "url": url,
                      "proxy_url": url, **({"content_type": content_type} if content_type else {})}
        self.uploads[attachment_id] = (attachment, data)
        return str(attachment_id)

    async def _get_upload(self, request: web.Request) -> web.Response:
        found = self.uploads.get(int(request.match_info["attachment"]))
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[1], content_type=found[0].get("content_type", "application/octet-stream"))

    # -- interaction payloads -------------------------------------------------------------------------

    def _command_data(self, name: str, options: dict[str, Any] | list[Payload] | None, guild_id: int | None,
                      kind: int, focused: str | None) -> Payload:
        scopes = [guild_id, None] if guild_id is not None else [None]
        found = [(s, c) for s in scopes for c in self.rest.commands.get(s, []) if c["name"] == name]
        if not found:
            raise LookupError(f"command {name!r} was never synced here, so Discord users cannot run it")
        scope, command = found[0]
        definitions = {o["name"]: o for o in command.get("options") or []}
        if isinstance(options, list):
            raw = options
        else:
            raw = []
            for option_name, value in (options or {}).items():
                if option_name not in definitions:
                    raise LookupError(f"command {name!r} has no option {option_name!r}")
                option_type = definitions[option_name].get("type") or OPTION_TYPES[type(value)]
                raw.append({"name": option_name, "type": option_type, "value": value,
                            **({"focused": True} if option_name == focused else {})})
            given = {o["name"] for o in raw}
            missing = [n for n, o in definitions.items() if o.get("required") and n not in given]
            if kind == APPLICATION_COMMAND and missing:
                raise ValueError(f"Discord would not send /{name} without required options {missing}")
        data: Payload = {"id": command["id"], "name": name, "type": command.get("type", CommandType.CHAT_INPUT),
                         "options": raw}
        resolved = self._resolved(raw, guild_id)
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            data["guild_id"] = str(scope)
        return data

    def _resolved(self, options: list[Payload], guild_id: int | None) -> Payload:
        resolved: dict[str, dict[str, Payload]] = {}
        for option in options:
            for kind, found in self._resolved(option.get("options") or [], guild_id).items():  # subcommands'
                resolved.setdefault(kind, {}).update(found)
            value = str(option.get("value"))
            if option.get("type") == OptionType.USER and int(value) in self.world.users:
                resolved.setdefault("users", {})[value] = self.world.users[int(value)]
                if guild_id is not None:
                    member = self.world.member(guild_id, int(value))
                    resolved.setdefault("members", {})[value] = {k: v for k, v in member.items() if k != "user"}
            elif option.get("type") == OptionType.ATTACHMENT and int(value) in self.uploads:
                resolved.setdefault("attachments", {})[value] = self.uploads[int(value)][0]
            elif option.get("type") == OptionType.CHANNEL and int(value) in self.world.channels:
                resolved.setdefault("channels", {})[value] = {**self.world.channels[int(value)], "permissions": "0"}
        return resolved

    def _interaction_payload(self, kind: int, data: Payload, user_id: int, channel_id: int, guild_id: int | None,
                             locale: str) -> Payload:
        interaction_id = self.world.ids.next()
        channel = self.world.channels[channel_id]
        payload: Payload = {
            "id": str(interaction_id), "application_id": str(self.application_id), "type": kind, "data": data,
            "token": f"fake-{interaction_id}-{secrets.token_urlsafe(24)}", "version": 1, "locale": locale,
            "attachment_size_limit": 10 * 1024 * 1024, "entitlements": [], "channel_id": str(channel_id),
            "channel": channel,
        }
        if guild_id is not None:
            bot_permissions = self.world.permissions(guild_id, self.bot_user_id)
            payload.update({
                "guild_id": str(guild_id), "guild_locale": "en-US", "context": 0,
                "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
                "member": {**self.world.member(guild_id, user_id),
                           "permissions": str(self.world.permissions(guild_id, user_id))},
                "app_permissions": str(bot_permissions),
                "authorizing_integration_owners": {"0": str(guild_id)},
            })
        else:
            payload.update({"user": self.world.users[user_id], "context": 1, "app_permissions": "0",
                            "authorizing_integration_owners": {"1": str(user_id)}})
        return payload


def _find_component(components: list[Payload], custom_id: str) -> Payload | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        children = [*(component.get("components") or [])]
        if "accessory" in component:
            children.append(component["accessory"])
        found = _find_component(children, custom_id)
        if found is not None:
            return found
    return None


def _component_data(message: Payload, custom_id: str, values: list[str] | None) -> Payload:
    """data for a click (or select) on a component the message really has, as a Discord client sends it."""
    component = _find_component(message.get("components") or [], custom_id)
    if component is None:
        raise LookupError(f"message {message['id']} has no component with custom_id {custom_id!r}")
    if component.get("disabled"):
        raise ValueError(f"component {custom_id!r} is disabled; a Discord user cannot use it")
    data: Payload = {"custom_id": custom_id, "component_type": component["type"]}
    if values is not None:
        data["values"] = values
    return data
