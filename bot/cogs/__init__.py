"""The bot's commands and listeners, a Cog per concern, each given the Service."""

from __future__ import annotations

from discord.ext import commands

from ..service import Service
from .admin import Admin
from .ask import Ask
from .check import Check
from .library import Library
from .membership import Membership
from .questions import Questions
from .server_settings import ReportCog, ServerSettingsCog


async def add_cogs(bot: commands.Bot, service: Service) -> None:
    for cog in (Ask(service), Check(bot, service), Library(service), Admin(service), ServerSettingsCog(service),
                ReportCog(service), Questions(bot, service), Membership(service)):
        await bot.add_cog(cog)
