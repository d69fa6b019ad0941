"""👍 / 👎 buttons under every answer; they keep working after a restart because the answer id is in the button."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord

from retrieval.feedback import DOWN, UP

from .discord_reply import NO_PINGS

if TYPE_CHECKING:
    from .app import SourceBot

VOTES = {"up": (UP, "👍", "Helpful"), "down": (DOWN, "👎", "Not helpful")}
THANKS = "Thanks, your {emoji} is recorded. Press the other button to change it."


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"vote:(?P<answer>[0-9]+):(?P<vote>up|down)"):
    def __init__(self, answer_id: int, vote: str) -> None:
        _, emoji, label = VOTES[vote]
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=discord.ButtonStyle.secondary,
                                           custom_id=f"vote:{answer_id}:{vote}"))
        self.answer_id = answer_id
        self.vote = vote

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match) -> VoteButton:
        return cls(int(match["answer"]), match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: SourceBot = interaction.client  # type: ignore[assignment]
        value, emoji, _ = VOTES[self.vote]
        store = bot.feedback
        recorded = store is not None and await asyncio.get_running_loop().run_in_executor(
            bot.writer, store.vote, self.answer_id, interaction.user.id, value)
        text = THANKS.format(emoji=emoji) if recorded else "Votes are not being kept for this answer any more."
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


def vote_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for vote in VOTES:
        view.add_item(VoteButton(answer_id, vote))
    return view
