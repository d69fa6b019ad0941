"""/ask: a question in, the closest passages out, quoted with citations (privately if asked or so set)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from .. import limits
from ..notices import tell
from ..service import Service

COOLDOWN_NOTICE = "Please wait {seconds} s before asking again; your question was not searched."
QUESTION_MAX_CHARS = 2000  # Discord's own cap on a string option is 6000; a question never needs more


class Ask(commands.Cog):
    def __init__(self, service: Service) -> None:
        self.service = service

    @app_commands.command(name="ask", description="Ask a question; get the closest source passages, quoted, "
                          "with citations")
    @app_commands.describe(question="What you want to know",
                           count=f"How many passages to show (1-{limits.MAX_COUNT})",
                           private="Only you see the answer")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, QUESTION_MAX_CHARS],
                  count: app_commands.Range[int, 1, limits.MAX_COUNT] | None = None,
                  private: bool | None = None) -> None:
        service = self.service
        settings = service.settings_for(interaction.guild_id)
        ephemeral = settings.private_replies if private is None else private
        wait = service.retry_after(interaction.user.id, interaction.guild_id)
        if wait:
            await tell(interaction, COOLDOWN_NOTICE.format(seconds=max(1, round(wait))))
            return
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        answer, pages = await service.search(question, count or settings.count, interaction.guild_id,
                                             interaction.channel_id, interaction.user.id)
        messages = await service.outgoing(pages, answer, interaction.guild_id, interaction.channel_id)
        if answer is None:  # a refusal or a fault: for the asker only
            await tell(interaction, **messages[0])
            return
        for kwargs in messages:  # the first replaces "thinking…"; more follow when one message cannot hold all
            await interaction.followup.send(**kwargs, ephemeral=ephemeral)
