"""Notices for one person only: ephemeral for an interaction; for a message, a DM, else a reply that soon
disappears. Among them the notice that something went wrong, whose traceback is logged once."""

from __future__ import annotations

import logging
from typing import Any

import discord

from .discord_reply import NO_PINGS
from .replies import FAILED

LOG = logging.getLogger(__name__)
NOTICE_SECONDS = 60  # how long a notice replied in the channel stays, for an asker whose DMs are closed


async def tell(interaction: discord.Interaction, text: str | None = None, **message: Any) -> None:
    """Send `text` (or the message kwargs) so that only the user who interacted sees it."""
    message = {"content": text, "allowed_mentions": NO_PINGS, **message, "ephemeral": True}
    if not interaction.response.is_done():
        await interaction.response.send_message(**message)
        return
    if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        await interaction.delete_original_response()  # a public "thinking…" cannot be turned private
    await interaction.followup.send(**message)


async def tell_author(message: discord.Message, text: str, lasts: float = NOTICE_SECONDS) -> None:
    """Tell a message's author privately; if their DMs are closed, in a reply that disappears after `lasts` s."""
    try:
        await message.author.send(text, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        await message.reply(text, allowed_mentions=NO_PINGS, mention_author=False, delete_after=lasts)


async def answer_fault(interaction: discord.Interaction, error: BaseException, text: str = FAILED) -> None:
    """Log an unexpected error with its traceback and tell the user, so nobody is left on "thinking…"."""
    data = interaction.data or {}
    what = f"/{data['name']}" if "name" in data else f"button {data.get('custom_id', '?')}"
    LOG.error("%s failed guild=%s channel=%s user=%s", what, interaction.guild_id, interaction.channel_id,
              interaction.user.id, exc_info=error)
    try:
        await tell(interaction, text)
    except discord.HTTPException as failure:
        LOG.warning("could not tell user %s that %s failed: %s", interaction.user.id, what, failure)
