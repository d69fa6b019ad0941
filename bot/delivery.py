"""Replies Discord would not take, logged in plain words: which permission is missing where, or that Discord
itself failed, instead of a traceback."""

from __future__ import annotations

import logging

import discord

LOG = logging.getLogger(__name__)
# what answering in a channel needs: replies quote the question and carry the passages as embeds
NEEDED = {"send_messages": "Send Messages", "embed_links": "Embed Links",
          "read_message_history": "Read Message History"}
NEEDED_IN_THREADS = {**NEEDED, "send_messages_in_threads": "Send Messages in Threads"}


class LostReplies:
    """Logs each reply Discord refused; a missing permission once per channel, since every question there
    would fail the same way until someone fixes it."""

    def __init__(self) -> None:
        self.warned: set[int] = set()

    def log(self, error: discord.HTTPException, channel: discord.abc.Messageable) -> None:
        channel_id = getattr(channel, "id", "?")
        guild = getattr(channel, "guild", None)
        where = f"channel {channel_id}" + (f" of guild {guild.id}" if guild else "")
        if isinstance(error, discord.DiscordServerError):
            LOG.warning("Discord failed (HTTP %d: %s), so the reply in %s was lost", error.status, error.text, where)
        elif not isinstance(error, discord.Forbidden):
            LOG.error("Discord refused the reply in %s: %s", where, error)
        elif channel_id not in self.warned:
            self.warned.add(channel_id)
            if guild is None:
                LOG.warning("cannot reply in %s: the user does not accept direct messages from the bot", where)
            else:
                LOG.warning("cannot reply in %s: missing permission (%s); give the bot these permissions", where,
                            " / ".join(missing_permissions(channel, guild.me)))


def missing_permissions(channel: discord.abc.GuildChannel | discord.Thread, me: discord.Member) -> list[str]:
    """The needed permissions the bot lacks in the channel as far as it knows, else all of them (what it
    knows may be out of date)."""
    needed = NEEDED_IN_THREADS if isinstance(channel, discord.Thread) else NEEDED
    allowed = channel.permissions_for(me)
    # without Send Messages discord.py reports Embed Links missing as well, whatever the server granted
    unknown = {"embed_links"} if not allowed.send_messages else set()
    lacking = [name for attribute, name in needed.items()
               if attribute not in unknown and not getattr(allowed, attribute)]
    return lacking or list(needed.values())
