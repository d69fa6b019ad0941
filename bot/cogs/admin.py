"""Commands for server managers: /reindex rebuilds the index from the sources and switches to it."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from retrieval import RetrievalError

from .. import replies
from ..discord_reply import NO_PINGS, message_kwargs
from ..notices import tell
from ..service import Service

MANAGE_SERVER_ONLY = "Only members with the Manage Server permission can {what}."


class Admin(commands.Cog):
    def __init__(self, service: Service) -> None:
        self.service = service

    @app_commands.command(name="reindex", description="Rebuild the index from the sources and switch to it "
                          "(admins)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def reindex(self, interaction: discord.Interaction) -> None:
        if not interaction.permissions.manage_guild:  # default_permissions can be overridden by a server
            await tell(interaction, MANAGE_SERVER_ONLY.format(what="rebuild the index"))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            fresh = await self.service.reloader.reload(rebuild=True)
        except RetrievalError as error:
            await interaction.followup.send(**message_kwargs(replies.error_reply(f"The index was not rebuilt: "
                                                                                   f"{error}")), ephemeral=True)
            return
        manifest = fresh.index.manifest
        await interaction.followup.send(
            f"Index rebuilt and in use: {manifest.vectors} passages from {manifest.sources} sources "
            f"({manifest.embedded} embedded, the rest unchanged) in {manifest.build_seconds:.1f} s.",
            ephemeral=True, allowed_mentions=NO_PINGS)
