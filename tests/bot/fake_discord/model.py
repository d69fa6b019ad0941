"""The fake Discord's world: users, guilds, channels and messages, as Discord API payloads."""

from __future__ import annotations

import copy
import re
import time
from datetime import UTC, datetime
from typing import Any

from .codes import REFERENCE_DEFAULT, ChannelType, MessageType

DISCORD_EPOCH_MS = 1420070400000
ADMINISTRATOR = 1 << 3
SEND_MESSAGES = 1 << 11
SEND_MESSAGES_IN_THREADS = 1 << 38
MANAGE_THREADS = 1 << 34
MEMBER_OVERWRITE = 1
ALL_TEXT_PERMISSIONS = (
    (1 << 6) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 18) | (1 << 31) | (1 << 35) | (1 << 38)
)
MODERATOR_PERMISSIONS = ALL_TEXT_PERMISSIONS | (1 << 5) | (1 << 13) | (1 << 34)  # + manage server, messages, threads
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")

Payload = dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Snowflakes:
    """Generates increasing Discord snowflakes based on the current time."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        value = max((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22, self._last + 1)
        self._last = value
        return value


def bit_union(values: Any) -> int:
    """OR of permission bit sets written as strings, as Discord sends them."""
    result = 0
    for value in values:
        result |= int(value)
    return result


def user_payload(user_id: int, name: str, *, bot: bool = False) -> Payload:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": None if bot else name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
    }


class World:
    """Users, guilds (each with #general and #questions), DM channels and every message, keyed by id."""

    def __init__(self, *, bot_user_id: int, bot_name: str, guild_ids: tuple[int, ...], ids: Snowflakes) -> None:
        self.ids = ids
        self.bot_user_id = bot_user_id
        self.users: dict[int, Payload] = {bot_user_id: user_payload(bot_user_id, bot_name, bot=True)}
        self.human_ids: list[int] = [self._add_user("alice"), self._add_user("bob")]
        self.other_bot_id = self._add_user("otherbot", bot=True)
        self.guilds: dict[int, Payload] = {}
        self.channels: dict[int, Payload] = {}
        self.messages: dict[int, Payload] = {}
        self.dm_by_user: dict[int, int] = {}
        self.departed: dict[int, Payload] = {}  # guilds the bot was removed from, as they were
        for index, guild_id in enumerate(guild_ids):
            self._add_guild(guild_id, f"Test Guild {index + 1}")
        self.dm_channel(self.human_ids[0])

    def _add_user(self, name: str, *, bot: bool = False) -> int:
        user_id = self.ids.next()
        self.users[user_id] = user_payload(user_id, name, bot=bot)
        return user_id

    def add_human(self, name: str) -> int:
        """A new member of every guild (Discord would send GUILD_MEMBER_ADD; messages carry the member anyway)."""
        user_id = self._add_user(name)
        self.human_ids.append(user_id)
        for guild_id in self.guilds:
            self.guilds[guild_id]["members"].append(self._member(user_id, []))
        return user_id

    def add_manager(self, name: str, guild_id: int) -> int:
        """A new member of every guild who is a Moderator (Manage Server) in `guild_id` only."""
        user_id = self.add_human(name)
        moderators = next(r["id"] for r in self.guilds[guild_id]["roles"] if r["name"] == "Moderators")
        self.member(guild_id, user_id)["roles"].append(moderators)
        return user_id

    def _add_guild(self, guild_id: int, name: str) -> None:
        moderators, bot_role = self.ids.next(), self.ids.next()
        roles = [
            self._role(guild_id, "@everyone", 0, ALL_TEXT_PERMISSIONS),
            self._role(moderators, "Moderators", 1, MODERATOR_PERMISSIONS),
            {**self._role(bot_role, "Bot", 2, MODERATOR_PERMISSIONS), "managed": True,
             "tags": {"bot_id": str(self.bot_user_id)}},
        ]
        members = [
            self._member(self.bot_user_id, [bot_role]),
            self._member(self.human_ids[0], [moderators]),
            self._member(self.human_ids[1], []),
            self._member(self.other_bot_id, []),
        ]
        channels = []
        for position, channel_name in enumerate(("general", "questions")):
            channel = self._text_channel(self.ids.next(), guild_id, channel_name, position)
            self.channels[int(channel["id"])] = channel
            channels.append({k: v for k, v in channel.items() if k != "guild_id"})
        self.guilds[guild_id] = {
            "id": str(guild_id), "name": name, "icon": None, "splash": None, "discovery_splash": None,
            "banner": None, "description": None, "owner_id": str(self.human_ids[0]), "region": None,
            "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
            "features": [], "emojis": [], "stickers": [], "roles": roles, "application_id": None,
            "system_channel_id": channels[0]["id"], "system_channel_flags": 0, "rules_channel_id": None,
            "vanity_url_code": None, "premium_tier": 0, "premium_subscription_count": 0,
            "preferred_locale": "en-US", "public_updates_channel_id": None, "max_members": 500000,
            "premium_progress_bar_enabled": False, "joined_at": now_iso(), "large": False,
            "unavailable": False, "member_count": len(members), "members": members, "channels": channels,
            "threads": [], "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
        }

    @staticmethod
    def _role(role_id: int, name: str, position: int, permissions: int) -> Payload:
        return {
            "id": str(role_id), "name": name, "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False, "icon": None, "unicode_emoji": None, "position": position,
            "permissions": str(permissions), "managed": False, "mentionable": True, "flags": 0,
        }

    def _member(self, user_id: int, role_ids: list[int]) -> Payload:
        return {
            "user": self.users[user_id], "nick": None, "avatar": None, "banner": None,
            "roles": [str(r) for r in role_ids], "joined_at": now_iso(), "premium_since": None,
            "deaf": False, "mute": False, "flags": 0, "pending": False, "communication_disabled_until": None,
        }

    @staticmethod
    def _text_channel(channel_id: int, guild_id: int, name: str, position: int) -> Payload:
        return {
            "id": str(channel_id), "type": ChannelType.GUILD_TEXT, "guild_id": str(guild_id), "name": name,
            "position": position,
            "topic": None, "nsfw": False, "last_message_id": None, "rate_limit_per_user": 0,
            "parent_id": None, "permission_overwrites": [], "flags": 0,
        }

    # -- lookups -------------------------------------------------------------------------------------

    def channel_id(self, name: str, guild_id: int | None = None) -> int:
        """Id of the guild text channel called ``name`` (in the first guild unless ``guild_id``)."""
        guild_id = guild_id or next(iter(self.guilds))
        for channel_id, channel in self.channels.items():
            if channel.get("name") == name and channel.get("guild_id") == str(guild_id):
                return channel_id
        raise LookupError(f"no channel #{name} in guild {guild_id}")

    def member(self, guild_id: int, user_id: int) -> Payload:
        for member in self.guilds[guild_id]["members"]:
            if member["user"]["id"] == str(user_id):
                return member
        raise LookupError(f"user {user_id} is not a member of guild {guild_id}")

    def permissions(self, guild_id: int, user_id: int) -> int:
        role_ids = {str(guild_id), *self.member(guild_id, user_id)["roles"]}
        value = 0
        for role in self.guilds[guild_id]["roles"]:
            if role["id"] in role_ids:
                value |= int(role["permissions"])
        return value

    def channel_permissions(self, channel_id: int, user_id: int) -> int:
        """A member's permissions in a guild channel (a thread: its parent), with the channel's overwrites
        applied as Discord does: @everyone, then the member's roles together, then the member."""
        channel = self.channels[channel_id]
        if channel.get("parent_id") and int(channel["parent_id"]) in self.channels:
            channel = self.channels[int(channel["parent_id"])]
        guild_id = int(channel["guild_id"])
        value = self.permissions(guild_id, user_id)
        if value & ADMINISTRATOR:
            return value
        overwrites = {o["id"]: o for o in channel.get("permission_overwrites") or []}
        roles = [overwrites[r] for r in self.member(guild_id, user_id)["roles"] if r in overwrites]
        layers = [[overwrites.get(str(guild_id))], roles, [overwrites.get(str(user_id))]]
        for layer in layers:
            present = [o for o in layer if o is not None]
            deny = bit_union(o["deny"] for o in present)
            allow = bit_union(o["allow"] for o in present)
            value = (value & ~deny) | allow
        return value

    def deny(self, channel_id: int, user_id: int, permissions: int) -> Payload:
        """Add a member overwrite denying ``permissions`` in a guild channel; returns the channel."""
        channel = self.channels[channel_id]
        overwrite = {"id": str(user_id), "type": MEMBER_OVERWRITE, "allow": "0", "deny": str(permissions)}
        channel["permission_overwrites"] = [*channel["permission_overwrites"], overwrite]
        guild = self.guilds[int(channel["guild_id"])]
        for listed in guild["channels"]:  # GUILD_CREATE on a later connection must carry it too
            if listed["id"] == channel["id"]:
                listed["permission_overwrites"] = channel["permission_overwrites"]
        return channel

    def guild_of(self, channel_id: int) -> int | None:
        guild_id = self.channels[channel_id].get("guild_id")
        return int(guild_id) if guild_id else None

    def dm_channel(self, user_id: int) -> Payload:
        """The DM channel between the bot and ``user_id``, created on first use."""
        if user_id not in self.dm_by_user:
            channel_id = self.ids.next()
            self.dm_by_user[user_id] = channel_id
            self.channels[channel_id] = {
                "id": str(channel_id), "type": ChannelType.DM, "last_message_id": None, "flags": 0,
                "recipients": [self.users[user_id]],
            }
        return self.channels[self.dm_by_user[user_id]]

    def add_forum(self, guild_id: int, name: str, tags: tuple[str, ...]) -> Payload:
        """A forum channel with a tag of each name; posts in it are threads."""
        forum_id = self.ids.next()
        forum = {**self._text_channel(forum_id, guild_id, name, len(self.guilds[guild_id]["channels"])),
                 "type": ChannelType.GUILD_FORUM,
                 "available_tags": [{"id": str(self.ids.next()), "name": tag, "moderated": False, "emoji_id": None,
                                     "emoji_name": None} for tag in tags],
                 "default_reaction_emoji": None, "default_sort_order": None, "default_forum_layout": 0}
        self.channels[forum_id] = forum
        self.guilds[guild_id]["channels"].append({k: v for k, v in forum.items() if k != "guild_id"})
        return forum

    def add_thread(self, parent_id: int, name: str, owner_id: int, *, thread_id: int | None = None,
                   auto_archive_duration: int = 1440, thread_type: int = 11) -> Payload:
        """Create a thread channel under ``parent_id`` (from a message when ``thread_id`` is its id)."""
        thread_id = thread_id or self.ids.next()
        guild_id = self.channels[parent_id]["guild_id"]
        thread = {
            "id": str(thread_id), "type": thread_type, "guild_id": guild_id, "parent_id": str(parent_id),
            "owner_id": str(owner_id), "name": name, "last_message_id": None, "rate_limit_per_user": 0,
            "message_count": 0, "member_count": 1, "total_message_sent": 0, "flags": 0,
            "thread_metadata": {
                "archived": False, "auto_archive_duration": auto_archive_duration,
                "archive_timestamp": now_iso(), "locked": False, "invitable": True, "create_timestamp": now_iso(),
            },
            "member": {"id": str(thread_id), "user_id": str(owner_id), "join_timestamp": now_iso(), "flags": 0},
        }
        self.channels[thread_id] = thread
        return thread

    # -- messages ------------------------------------------------------------------------------------

    def add_message(self, channel_id: int, author_id: int, body: Payload, *, message_type: int = 0,
                    extra: Payload | None = None, message_id: int | None = None) -> Payload:
        """Store and return a full message object for ``body`` (a create-message JSON body); `message_id` for a
        forum post's starter message, whose id is its thread's."""
        channel = self.channels[channel_id]
        guild_id = self.guild_of(channel_id)
        content = body.get("content") or ""
        message_id = message_id or self.ids.next()
        message: Payload = {
            "id": str(message_id), "channel_id": str(channel_id), "author": self.users[author_id],
            "content": content, "timestamp": now_iso(), "edited_timestamp": None, "tts": bool(body.get("tts")),
            "mention_everyone": "@everyone" in content, "mentions": self._mentions(content, guild_id),
            "mention_roles": _ROLE_MENTION.findall(content),
            "attachments": [self._attachment(a) for a in body.get("attachments") or [] if "filename" in a],
            "embeds": body.get("embeds") or [], "components": body.get("components") or [],
            "pinned": False, "type": message_type, "flags": body.get("flags") or 0,
            **(extra or {}),
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
            message["member"] = {k: v for k, v in self.member(guild_id, author_id).items() if k != "user"}
        reference = body.get("message_reference")
        if reference and reference.get("message_id"):
            referenced = self.messages.get(int(reference["message_id"]))
            message["type"] = MessageType.REPLY
            message["message_reference"] = {
                "type": REFERENCE_DEFAULT, "message_id": str(reference["message_id"]), "channel_id": str(channel_id),
                **({"guild_id": str(guild_id)} if guild_id else {}),
            }
            message["referenced_message"] = copy.deepcopy(referenced)
        self.messages[message_id] = message
        channel["last_message_id"] = str(message_id)
        return message

    def _mentions(self, content: str, guild_id: int | None) -> list[Payload]:
        found = []
        for user_id in dict.fromkeys(int(m) for m in _USER_MENTION.findall(content)):
            if user_id in self.users:
                user = dict(self.users[user_id])
                if guild_id is not None:
                    user["member"] = {k: v for k, v in self.member(guild_id, user_id).items() if k != "user"}
                found.append(user)
        return found

    def _attachment(self, attachment: Payload) -> Payload:
        attachment_id = self.ids.next()
        url = f"https://cdn.discordapp.com/attachments/0/{attachment_id}/{attachment['filename']}"
        return {"id": str(attachment_id), "filename": attachment["filename"], "size": 0, "url": url, "proxy_url": url}

    def edit_message(self, message_id: int, body: Payload) -> Payload:
        """Apply a PATCH body to a stored message and return it."""
        message = self.messages[message_id]
        for key, empty in (("content", ""), ("embeds", []), ("components", []), ("flags", 0)):
            if key in body:
                message[key] = empty if body[key] is None else body[key]
        if "attachments" in body:
            message["attachments"] = [a if "url" in a else self._attachment(a) for a in body["attachments"] or []]
        message["edited_timestamp"] = now_iso()
        return message
