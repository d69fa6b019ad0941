"""Buttons that page through a long reply; only the person who asked can turn the pages."""

from __future__ import annotations

import logging

import discord

from .discord_reply import message_kwargs
from .notices import answer_fault
from .replies import Reply

LOG = logging.getLogger(__name__)
# the buttons are disabled this long after the last press, through that press's interaction token, which
# Discord lets edit its message for 15 minutes
PAGER_TIMEOUT_SECONDS = 14 * 60


class Pager(discord.ui.View):
    """Previous / page x of y / Next, editing the message in place; all disabled once nobody pressed them
    for `timeout` seconds. `interaction` is the one whose response is the paged message."""

    def __init__(self, pages: list[Reply], interaction: discord.Interaction, start: int = 0,
                 timeout: float = PAGER_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.pages = pages
        self.owner_id = interaction.user.id
        self.interaction = interaction
        self.page = start
        self.refresh()

    def current(self) -> dict:
        return {**message_kwargs(self.pages[self.page]), "view": self}

    def refresh(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page == len(self.pages) - 1
        self.position.label = f"{self.page + 1} / {len(self.pages)}"

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message("Only the person who asked can turn these pages; "
                                                "run the command yourself to browse.", ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())
        return False

    async def on_error(self, interaction: discord.Interaction, error: Exception, _: discord.ui.Item) -> None:
        await answer_fault(interaction, error)

    async def on_timeout(self) -> None:
        for item in self.children:
            item.disabled = True  # type: ignore[attr-defined]
        try:
            await self.interaction.edit_original_response(view=self)
        except discord.HTTPException as error:  # the message was deleted, or Discord failed: nothing to undo
            LOG.info("could not disable the page buttons: %s", error)

    async def turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = max(0, min(len(self.pages) - 1, self.page + step))
        self.refresh()
        self.interaction = interaction  # the freshest token, for on_timeout
        await interaction.response.edit_message(**self.current())

    @discord.ui.button(label="◀ Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await self.turn(interaction, -1)

    @discord.ui.button(label="1 / 1", style=discord.ButtonStyle.secondary, disabled=True)
    async def position(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.defer()

    @discord.ui.button(label="Next ▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await self.turn(interaction, +1)
