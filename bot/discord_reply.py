"""Turn a Reply into what discord.py sends: embeds, and mentions that never ping anyone."""

from __future__ import annotations

from typing import Any

import discord

from .replies import Reply

EMBED_COLOUR = discord.Colour.blurple()
NO_PINGS = discord.AllowedMentions.none()


def message_kwargs(reply: Reply) -> dict[str, Any]:
    embeds = []
    for embed in reply.embeds:
        item = discord.Embed(title=embed.title, description=embed.description, colour=EMBED_COLOUR)
        if embed.footer:
            item.set_footer(text=embed.footer)
        embeds.append(item)
    return {"content": reply.content or None, "embeds": embeds, "allowed_mentions": NO_PINGS}
