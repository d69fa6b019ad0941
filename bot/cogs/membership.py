"""The bot leaving and joining servers: GUILD_DELETE marks a server's own library for removal after the grace
period, joining again keeps it, and libraries past their grace period are removed every few hours."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import discord
from discord.ext import commands, tasks

from ..service import Service

LOG = logging.getLogger(__name__)
EXPIRY_CHECK_HOURS = 6  # grace periods are days long: a few hours late in removing a library is no matter
EXPIRY = "expiry"  # the library pool's queue for removing expired libraries, beside every server's own


class Membership(commands.Cog):
    def __init__(self, service: Service) -> None:
        self.service = service

    async def cog_load(self) -> None:
        if self.service.libraries is not None:
            self.expire.start()

    async def cog_unload(self) -> None:
        self.expire.cancel()

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Kicked, banned or the server deleted (an outage is on_guild_unavailable, not this)."""
        libraries = self.service.libraries
        if libraries is None or not libraries.documents_folder(guild.id).is_dir():
            return
        await self.service.library_work(guild.id, libraries.left, guild.id, datetime.now(UTC))
        LOG.info("left guild %s: its library is kept %g days, then removed", guild.id,
                 libraries.limits.grace_days)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        if self.service.libraries is not None:
            await self.service.library_work(guild.id, self.service.libraries.rejoined, guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """Every server the bot is in, as it connects: one it was invited back to while offline keeps its library."""
        await self.on_guild_join(guild)

    @tasks.loop(hours=EXPIRY_CHECK_HOURS)
    async def expire(self) -> None:
        await self.service.library_work(EXPIRY, self.service.libraries.expire)
