"""The fake REST API under /api/v10: records every request and answers the way Discord does."""

from __future__ import annotations

import asyncio
import http
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import limits
from .codes import EPHEMERAL, LOADING, THREAD_TYPES, Callback, CommandType
from .gateway import APP_FLAG_GATEWAY_MESSAGE_CONTENT, Gateway
from .interactions import ALLOWED_CALLBACKS, AUTOCOMPLETE, MESSAGE_COMPONENT, InteractionHandle, Rejection
from .model import MANAGE_THREADS, SEND_MESSAGES, SEND_MESSAGES_IN_THREADS, Payload, World
from .waiting import Changes

_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


@dataclass
class RecordedRequest:
    """One REST call as the fake saw it; ``status`` and ``response`` are filled in once answered."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    files: list[str] = field(default_factory=list)  # the names of a multipart upload's files
    status: int = 0
    response: Any = None
    received_at: float = 0.0  # event-loop time, to measure how long the bot took to answer
    uploads: dict[str, bytes] = field(default_factory=dict)  # each uploaded file's bytes by its name


@dataclass
class Violation:
    """Something real Discord would refuse, or the project forbids (kind: limits, empty_message,
    allowed_mentions, interaction, auth, unknown_route, not_found, invalid, permissions)."""

    kind: str
    method: str
    path: str
    detail: str
    errors: Payload | None = None


class DiscordError(Exception):
    """An error answer: HTTP status plus Discord's JSON error body."""

    def __init__(self, status: int, code: int, message: str, errors: Payload | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: Payload = {"code": code, "message": message}
        if errors:
            self.body["errors"] = errors


def json_response(status: int, body: Any) -> web.Response:
    """Discord-style JSON answer; the Content-Type must be exactly application/json for discord.py."""
    if body is None:
        return web.Response(status=204)
    return web.Response(status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


Handler = Callable[..., Awaitable[tuple[int, Any]]]


class RestApi:
    """Routes, Discord's rules (auth, limits, interaction acknowledgement) and the record of what the bot did."""

    def __init__(self, *, world: World, gateway: Gateway, changes: Changes, token: str, application_id: int,
                 interaction_deadline: float, shard_count: int, message_content_intent_granted: bool) -> None:
        self.world = world
        self.gateway = gateway
        self.changes = changes
        self.token = token
        self.application_id = application_id
        self.interaction_deadline = interaction_deadline
        self.shard_count = shard_count
        self.message_content_intent_granted = message_content_intent_granted
        self.gateway_url = ""
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.sent: list[Payload] = []
        self.commands: dict[int | None, list[Payload]] = {}
        self.interactions: dict[int, InteractionHandle] = {}
        self.failing_channels: dict[int, int] = {}  # channel id -> the 5xx status Discord answers there
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        for method, pattern, handler in self._route_table():
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern))
            self._routes.append((method, re.compile(f"^{regex}$"), handler))

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        app, hook, msg = "/applications/{app}", "/webhooks/{app}/{token}", "/channels/{channel}/messages/{message}"
        return [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway),
            ("GET", f"{app}/commands", self._get_commands),
            ("PUT", f"{app}/commands", self._put_commands),
            ("GET", f"{app}/guilds/{{guild}}/commands", self._get_commands),
            ("PUT", f"{app}/guilds/{{guild}}/commands", self._put_commands),
            ("GET", "/channels/{channel}", self._get_channel),
            ("PATCH", "/channels/{channel}", self._patch_channel),
            ("POST", "/channels/{channel}/messages", self._post_message),
            ("GET", msg, self._get_message),
            ("PATCH", msg, self._patch_message),
            ("DELETE", msg, self._delete_message),
            ("PUT", f"{msg}/reactions/{{emoji}}/@me", self._no_content),
            ("DELETE", f"{msg}/reactions/{{emoji}}/@me", self._no_content),
            ("POST", "/channels/{channel}/typing", self._post_typing),
            ("POST", f"{msg}/threads", self._post_thread),
            ("POST", "/channels/{channel}/threads", self._post_thread),
            ("POST", "/users/@me/channels", self._post_dm),
            ("POST", "/interactions/{interaction}/{token}/callback", self._post_callback),
            ("GET", f"{hook}/messages/{{message}}", self._get_webhook_message),
            ("PATCH", f"{hook}/messages/{{message}}", self._patch_webhook_message),
            ("DELETE", f"{hook}/messages/{{message}}", self._delete_webhook_message),
            ("POST", hook, self._post_followup),
        ]

    # -- plumbing ------------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api/v10")
        body, files = await _read_body(request)
        req = RecordedRequest(request.method, path, dict(request.query), body, dict(request.headers), list(files),
                              received_at=asyncio.get_running_loop().time(), uploads=files)
        self.requests.append(req)
        try:
            self._fail_if_down(req)
            status, answer = await self._route(req)
        except DiscordError as exc:
            status, answer = exc.status, exc.body
        req.status, req.response = (204 if answer is None else status), answer
        self.changes.notify()
        return json_response(status, answer)

    async def _route(self, req: RecordedRequest) -> tuple[int, Any]:
        for method, regex, handler in self._routes:
            match = regex.match(req.path)
            if match and method == req.method:
                if not req.path.startswith(("/webhooks/", "/interactions/")) and req.path != "/gateway":
                    auth = next((v for k, v in req.headers.items() if k.lower() == "authorization"), None)
                    if auth != f"Bot {self.token}":
                        raise self.reject(req, "auth", 401, 0, "401: Unauthorized")
                return await handler(req, **match.groupdict())
        raise self.reject(req, "unknown_route", 404, 0, "404: Not Found")

    def _fail_if_down(self, req: RecordedRequest) -> None:
        """Discord's own failure (not the bot's, so no violation) for calls on a channel set to fail."""
        match = re.match(r"^/channels/(\d+)(/|$)", req.path)
        status = self.failing_channels.get(int(match[1])) if match else None
        if status:
            raise DiscordError(status, 0, f"{status}: {http.HTTPStatus(status).phrase}")

    def reject(self, req: RecordedRequest, kind: str, status: int, code: int, message: str,
               errors: Payload | None = None, handle: InteractionHandle | None = None) -> DiscordError:
        """Record a violation (and a rejection on ``handle``) and return the error to raise."""
        error = DiscordError(status, code, message, errors)
        self.violations.append(Violation(kind, req.method, req.path, message, errors))
        if handle is not None:
            handle.rejections.append(Rejection(req.method, req.path, status, error.body))
        return error

    def check_message(self, req: RecordedRequest, body: Payload, *, create: bool,
                      handle: InteractionHandle | None = None) -> None:
        """Discord's limits (400 50035), empty messages (400 50006) and the allowed_mentions rule."""
        errors = limits.check_message(body)
        if errors:
            raise self.reject(req, "limits", 400, 50035, "Invalid Form Body", errors, handle)
        if create and limits.is_empty_message(body):
            raise self.reject(req, "empty_message", 400, 50006, "Cannot send an empty message", None, handle)
        if create or "content" in body:
            problem = limits.allowed_mentions_problem(body)
            if problem:
                self.violations.append(Violation("allowed_mentions", req.method, req.path, problem))

    def _channel(self, req: RecordedRequest, channel: str) -> int:
        if not channel.isdigit() or int(channel) not in self.world.channels:
            raise self.reject(req, "not_found", 404, 10003, "Unknown Channel")
        return int(channel)

    def _require_send(self, req: RecordedRequest, channel_id: int) -> None:
        """Posting or typing in a guild channel needs Send Messages (in a thread, Send Messages in Threads)."""
        channel = self.world.channels[channel_id]
        if "guild_id" not in channel:
            return
        needed = SEND_MESSAGES_IN_THREADS if channel.get("type") in THREAD_TYPES else SEND_MESSAGES
        if not self.world.channel_permissions(channel_id, self.world.bot_user_id) & needed:
            raise self.reject(req, "permissions", 403, 50013, "Missing Permissions")

    def _message(self, req: RecordedRequest, message: str, handle: InteractionHandle | None = None) -> Payload:
        found = self.world.messages.get(int(message)) if message.isdigit() else None
        if found is None:
            raise self.reject(req, "not_found", 404, 10008, "Unknown Message", None, handle)
        return found

    # -- users, application, gateway, commands --------------------------------------------------------

    async def _get_me(self, req: RecordedRequest) -> tuple[int, Any]:
        user = self.world.users[self.world.bot_user_id]
        return 200, {**user, "verified": True, "mfa_enabled": False, "locale": "en-US", "flags": 0, "email": None}

    async def _get_application(self, req: RecordedRequest) -> tuple[int, Any]:
        flags = APP_FLAG_GATEWAY_MESSAGE_CONTENT if self.message_content_intent_granted else 0
        return 200, {
            "id": str(self.application_id), "name": "Test Bot", "icon": None, "description": "",
            "summary": "", "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
            "owner": self.world.users[self.world.human_ids[0]], "team": None, "flags": flags,
            "bot": self.world.users[self.world.bot_user_id], "interactions_endpoint_url": None,
            "rpc_origins": [], "redirect_uris": [], "tags": [],
        }

    async def _get_gateway(self, req: RecordedRequest) -> tuple[int, Any]:
        if req.path == "/gateway":
            return 200, {"url": self.gateway_url}
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit}

    def _scope(self, req: RecordedRequest, app: str, guild: str | None) -> int | None:
        if app != str(self.application_id):
            raise self.reject(req, "not_found", 404, 10002, "Unknown Application")
        if guild is not None and (not guild.isdigit() or int(guild) not in self.world.guilds):
            raise self.reject(req, "not_found", 404, 10004, "Unknown Guild")
        return int(guild) if guild is not None else None

    async def _get_commands(self, req: RecordedRequest, app: str, guild: str | None = None) -> tuple[int, Any]:
        return 200, self.commands.get(self._scope(req, app, guild), [])

    async def _put_commands(self, req: RecordedRequest, app: str, guild: str | None = None) -> tuple[int, Any]:
        scope = self._scope(req, app, guild)
        errors = _check_commands(req.json or [])
        if errors:
            raise self.reject(req, "limits", 400, 50035, "Invalid Form Body", errors)
        old = {c["name"]: c["id"] for c in self.commands.get(scope, [])}
        synced = []
        for command in req.json:
            echoed = {
                "type": CommandType.CHAT_INPUT, "description": "", "options": [], "default_member_permissions": None,
                "nsfw": False,
                **command, "id": old.get(command["name"]) or str(self.world.ids.next()),
                "application_id": str(self.application_id), "version": str(self.world.ids.next()),
            }
            if scope is not None:
                echoed["guild_id"] = str(scope)
            synced.append(echoed)
        self.commands[scope] = synced
        return 200, synced

    # -- channels and messages -------------------------------------------------------------------------

    async def _get_channel(self, req: RecordedRequest, channel: str) -> tuple[int, Any]:
        return 200, self.world.channels[self._channel(req, channel)]

    async def _patch_channel(self, req: RecordedRequest, channel: str) -> tuple[int, Any]:
        """Only what the bot edits: a forum post's tags, which need Manage Threads (at most 5, all the forum's)."""
        channel_id = self._channel(req, channel)
        thread = self.world.channels[channel_id]
        body = req.json or {}
        if "applied_tags" in body:
            forum = self.world.channels.get(int(thread.get("parent_id") or 0), {})
            known = {t["id"] for t in forum.get("available_tags", [])}
            tags = [str(tag) for tag in body["applied_tags"]]
            if len(tags) > 5 or not set(tags) <= known:
                errors = {"applied_tags": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH",
                                                         "message": "Unknown tag or more than 5 tags"}]}}
                raise self.reject(req, "limits", 400, 50035, "Invalid Form Body", errors)
            if not self.world.channel_permissions(channel_id, self.world.bot_user_id) & MANAGE_THREADS:
                raise self.reject(req, "permissions", 403, 50013, "Missing Permissions")
            thread["applied_tags"] = tags
        guild_id = self.world.guild_of(channel_id)
        await self.gateway.dispatch("THREAD_UPDATE", lambda _: dict(thread), guild_id=guild_id)
        return 200, thread

    async def _post_message(self, req: RecordedRequest, channel: str) -> tuple[int, Any]:
        channel_id = self._channel(req, channel)
        self._require_send(req, channel_id)
        body = req.json or {}
        self.check_message(req, body, create=True)
        reference = body.get("message_reference") or {}
        if reference.get("message_id") and int(reference["message_id"]) not in self.world.messages:
            if reference.get("fail_if_not_exists", True):
                errors = {"message_reference": {"_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                                             "message": "Unknown message"}]}}
                raise self.reject(req, "invalid", 400, 50035, "Invalid Form Body", errors)
            body = {k: v for k, v in body.items() if k != "message_reference"}
        message = self.world.add_message(channel_id, self.world.bot_user_id, body)
        self.sent.append({**body, "id": message["id"], "channel_id": message["channel_id"]})
        await self.gateway.dispatch_message("MESSAGE_CREATE", message)
        return 200, message

    async def _get_message(self, req: RecordedRequest, channel: str, message: str) -> tuple[int, Any]:
        self._channel(req, channel)
        return 200, self._message(req, message)

    async def _patch_message(self, req: RecordedRequest, channel: str, message: str) -> tuple[int, Any]:
        self._channel(req, channel)
        found = self._message(req, message)
        if found["author"]["id"] != str(self.world.bot_user_id):
            raise self.reject(req, "invalid", 403, 50005, "Cannot edit a message authored by another user")
        self.check_message(req, req.json or {}, create=False)
        edited = self.world.edit_message(int(found["id"]), req.json or {})
        await self.gateway.dispatch_message("MESSAGE_UPDATE", edited)
        return 200, edited

    async def _delete_message(self, req: RecordedRequest, channel: str, message: str) -> tuple[int, Any]:
        channel_id = self._channel(req, channel)
        found = self.world.messages.pop(int(self._message(req, message)["id"]))
        event = {"id": found["id"], "channel_id": str(channel_id), **_guild_key(found)}
        await self.gateway.dispatch("MESSAGE_DELETE", lambda _: event, guild_id=self.world.guild_of(channel_id))
        return 204, None

    async def _no_content(self, req: RecordedRequest, channel: str, **_: str) -> tuple[int, Any]:
        self._channel(req, channel)
        return 204, None

    async def _post_typing(self, req: RecordedRequest, channel: str) -> tuple[int, Any]:
        self._require_send(req, self._channel(req, channel))
        return 204, None

    async def _post_thread(self, req: RecordedRequest, channel: str, message: str | None = None) -> tuple[int, Any]:
        channel_id = self._channel(req, channel)
        body = req.json or {}
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            errors = {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 100"}]}}
            raise self.reject(req, "limits", 400, 50035, "Invalid Form Body", errors)
        starter = self._message(req, message) if message is not None else None
        thread = self.world.add_thread(
            channel_id, name, self.world.bot_user_id, thread_id=int(starter["id"]) if starter else None,
            auto_archive_duration=body.get("auto_archive_duration") or 1440,
            thread_type=11 if starter else body.get("type") or 12)
        if starter is not None:
            starter["thread"] = thread
        guild_id = self.world.guild_of(channel_id)
        await self.gateway.dispatch("THREAD_CREATE", lambda _: {**thread, "newly_created": True}, guild_id=guild_id)
        return 201, thread

    async def _post_dm(self, req: RecordedRequest) -> tuple[int, Any]:
        recipient = str((req.json or {}).get("recipient_id", ""))
        if not recipient.isdigit() or int(recipient) not in self.world.users:
            raise self.reject(req, "not_found", 404, 10013, "Unknown User")
        return 200, self.world.dm_channel(int(recipient))

    # -- interactions -------------------------------------------------------------------------------

    async def _post_callback(self, req: RecordedRequest, interaction: str, token: str) -> tuple[int, Any]:
        handle = self.interactions.get(int(interaction)) if interaction.isdigit() else None
        if handle is None or handle.token != token:
            raise self.reject(req, "interaction", 404, 10062, "Unknown interaction", None, handle)
        if handle.acknowledged:
            raise self.reject(req, "interaction", 400, 40060, "Interaction has already been acknowledged.",
                              None, handle)
        if asyncio.get_running_loop().time() > handle.created_at + handle.deadline:
            raise self.reject(req, "interaction", 404, 10062, "Unknown interaction", None, handle)
        body = req.json or {}
        callback_type, data = body.get("type"), body.get("data") or {}
        if callback_type not in ALLOWED_CALLBACKS[handle.type]:
            errors = {"type": {"_errors": [{"code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                            "message": f"Callback type {callback_type} is not valid here"}]}}
            raise self.reject(req, "interaction", 400, 50035, "Invalid Form Body", errors, handle)
        if callback_type == Callback.AUTOCOMPLETE_RESULT:
            errors = limits.check_choices(data)
            if errors:
                raise self.reject(req, "limits", 400, 50035, "Invalid Form Body", errors, handle)
        elif callback_type in (Callback.CHANNEL_MESSAGE, Callback.UPDATE_MESSAGE):
            self.check_message(req, data, create=callback_type == Callback.CHANNEL_MESSAGE, handle=handle)
        handle.responses.append(body)
        message = await self._apply_callback(handle, callback_type, data)
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return 204, None
        flags = (message or {}).get("flags", 0)
        result: Payload = {"interaction": {
            "id": str(handle.id), "type": handle.type,
            "response_message_loading": callback_type == Callback.DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(flags & EPHEMERAL),
        }, "resource": {"type": callback_type}}
        if message is not None:
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"]["message"] = message
        return 200, result

    async def _apply_callback(self, handle: InteractionHandle, callback_type: int, data: Payload) -> Payload | None:
        channel_id = int(handle.payload["channel_id"])
        if callback_type in (Callback.CHANNEL_MESSAGE, Callback.DEFERRED_CHANNEL_MESSAGE):
            flags = (data.get("flags") or 0) & EPHEMERAL
            loading = {"content": "", "flags": flags | LOADING}
            body = data if callback_type == Callback.CHANNEL_MESSAGE else loading
            handle.original = self._interaction_message(handle, channel_id, body)
            if not flags:
                await self.gateway.dispatch_message("MESSAGE_CREATE", handle.original)
        elif callback_type == Callback.UPDATE_MESSAGE and handle.original is not None:
            edited = self.world.edit_message(int(handle.original["id"]), data)
            await self.gateway.dispatch_message("MESSAGE_UPDATE", edited)
        shown = (Callback.CHANNEL_MESSAGE, Callback.DEFERRED_CHANNEL_MESSAGE, Callback.UPDATE_MESSAGE)
        return handle.original if callback_type in shown else None

    def _interaction_message(self, handle: InteractionHandle, channel_id: int, body: Payload) -> Payload:
        user = handle.payload.get("member", {}).get("user") or handle.payload.get("user")
        extra = {"webhook_id": str(self.application_id), "application_id": str(self.application_id),
                 "interaction_metadata": {"id": str(handle.id), "type": handle.type, "user": user,
                                          "authorizing_integration_owners": {}}}
        message_type = 20 if handle.type != MESSAGE_COMPONENT else 0
        return self.world.add_message(channel_id, self.world.bot_user_id, body, message_type=message_type,
                                      extra=extra)

    def _webhook_handle(self, req: RecordedRequest, app: str, token: str) -> InteractionHandle:
        handle = next((h for h in self.interactions.values() if h.token == token), None)
        if app != str(self.application_id) or handle is None or not handle.acknowledged \
                or handle.type == AUTOCOMPLETE:
            raise self.reject(req, "interaction", 404, 10015, "Unknown Webhook", None, handle)
        return handle

    def _webhook_message(self, req: RecordedRequest, handle: InteractionHandle, message: str) -> Payload:
        if message == "@original":
            if handle.original is None:
                raise self.reject(req, "interaction", 404, 10008, "Unknown Message", None, handle)
            return handle.original
        if message not in {f["id"] for f in handle.followups}:
            raise self.reject(req, "interaction", 404, 10008, "Unknown Message", None, handle)
        return self._message(req, message, handle)

    async def _post_followup(self, req: RecordedRequest, app: str, token: str) -> tuple[int, Any]:
        handle = self._webhook_handle(req, app, token)
        body = req.json or {}
        self.check_message(req, body, create=True, handle=handle)
        original = handle.original
        event = "MESSAGE_CREATE"
        if original is not None and original["flags"] & LOADING:
            # Discord: the first follow-up after a deferred response replaces the "thinking" message.
            keep = original["flags"] & EPHEMERAL
            message = self.world.edit_message(int(original["id"]), {**body, "flags": keep})
            message["edited_timestamp"], event = None, "MESSAGE_UPDATE"
        else:
            message = self._interaction_message(handle, int(handle.payload["channel_id"]), body)
        handle.followups.append(message)
        if not message["flags"] & EPHEMERAL:
            await self.gateway.dispatch_message(event, message)
        return 200, message

    async def _get_webhook_message(self, req: RecordedRequest, app: str, token: str, message: str) -> tuple[int, Any]:
        return 200, self._webhook_message(req, self._webhook_handle(req, app, token), message)

    async def _patch_webhook_message(self, req: RecordedRequest, app: str, token: str,
                                     message: str) -> tuple[int, Any]:
        handle = self._webhook_handle(req, app, token)
        found = self._webhook_message(req, handle, message)
        body = req.json or {}
        self.check_message(req, body, create=False, handle=handle)
        flags = found["flags"] & ~LOADING
        edited = self.world.edit_message(int(found["id"]), {**body, "flags": flags})
        handle.edits.append(body)
        if not flags & EPHEMERAL:
            await self.gateway.dispatch_message("MESSAGE_UPDATE", edited)
        return 200, edited

    async def _delete_webhook_message(self, req: RecordedRequest, app: str, token: str,
                                      message: str) -> tuple[int, Any]:
        handle = self._webhook_handle(req, app, token)
        found = self._webhook_message(req, handle, message)
        self.world.messages.pop(int(found["id"]), None)
        if found is handle.original:
            handle.original, handle.original_deleted = None, True
        return 204, None


def _guild_key(message: Payload) -> Payload:
    return {"guild_id": message["guild_id"]} if "guild_id" in message else {}


async def _read_body(request: web.Request) -> tuple[Any, dict[str, bytes]]:
    """JSON body, or the ``payload_json`` part and the files of a multipart upload (by name)."""
    if request.content_type == "multipart/form-data":
        payload, files = None, {}
        async for part in await request.multipart():
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            else:
                files[part.filename or part.name or ""] = bytes(await part.read())
        return payload, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), {}


def _check_commands(commands: list[Payload]) -> limits.Errors:
    """Names, descriptions, option counts and required-before-optional, as Discord validates a sync."""
    errors: limits.Errors = {}
    if len(commands) > 100:
        limits.add_error(errors, (), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    for i, command in enumerate(commands):
        chat_input = command.get("type", CommandType.CHAT_INPUT) == CommandType.CHAT_INPUT
        _check_named(command, (i,), errors, chat_input=chat_input)
        for j, option in enumerate(command.get("options") or []):
            _check_named(option, (i, "options", j), errors, chat_input=True)
        required = [bool(o.get("required")) for o in command.get("options") or [] if o.get("type") not in (1, 2)]
        if required != sorted(required, reverse=True):
            limits.add_error(errors, (i, "options"), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options")
    return errors


def _check_named(item: Payload, path: tuple[str | int, ...], errors: limits.Errors, *, chat_input: bool) -> None:
    name = item.get("name") or ""
    if chat_input and (not _COMMAND_NAME.match(name) or name != name.lower()):
        message = f"Command name is invalid: {name!r}"
        limits.add_error(errors, (*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", message)
    if chat_input and not 1 <= len(item.get("description") or "") <= 100:
        limits.add_error(errors, (*path, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    if len(item.get("options") or []) > 25 or len(item.get("choices") or []) > 25:
        limits.add_error(errors, (*path, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
