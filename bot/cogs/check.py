""""Check against sources" in a message's Apps menu: the message's text in, the passages that bear on it out,
privately, with a button that posts them publicly in reply to the message."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from retrieval import Answer

from .. import replies
from ..discord_reply import NO_PINGS, message_kwargs
from ..notices import answer_fault, tell
from ..service import Service

LOG = logging.getLogger(__name__)
MENU_NAME = "Check against sources"
MIN_WORDS = 3  # fewer words ("lol", "source?") are no claim to check; the search would return noise
NOTHING_TO_CHECK = "That message has no claim to check: it needs at least {n} words of text."
COOLDOWN_NOTICE = "Please wait {seconds} s before checking again; the message was not searched."
POSTED = "Posted in reply to the message."
POST_TIMEOUT_SECONDS = 14 * 60  # the button edits through its interaction's token, which lasts 15 minutes


class Check(commands.Cog):
    def __init__(self, bot: commands.Bot, service: Service) -> None:
        self.bot = bot
        self.service = service
        self.menu = app_commands.ContextMenu(name=MENU_NAME, callback=self.check)

    async def cog_load(self) -> None:
        # a Cog cannot hold a context menu as a method, so it is added to the tree here, as discord.py advises
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def check(self, interaction: discord.Interaction, message: discord.Message) -> None:
        service = self.service
        claim = " ".join(message.content.split())
        if len(claim.split()) < MIN_WORDS:
            await tell(interaction, NOTHING_TO_CHECK.format(n=MIN_WORDS))
            return
        wait = service.retry_after(interaction.user.id, interaction.guild_id)
        if wait:
            await tell(interaction, COOLDOWN_NOTICE.format(seconds=max(1, round(wait))))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = service.settings_for(interaction.guild_id)
        answer, pages = await service.search(claim, settings.count, interaction.guild_id, interaction.channel_id,
                                             interaction.user.id)
        if answer is None or not answer.hits:  # refused, failed, or not covered: nothing worth posting
            await tell(interaction, **message_kwargs(pages[0]))
            return
        messages = [message_kwargs(page) for page in pages]
        messages[-1]["view"] = PostPublicly(service, message, answer, pages, interaction.user.id)
        for kwargs in messages:
            await interaction.followup.send(**kwargs, ephemeral=True)


class PostPublicly(discord.ui.View):
    """One button under a private check: posts the same passages in reply to the checked message, then is
    disabled. Only the moderator who checked can press it."""

    def __init__(self, service: Service, message: discord.Message, answer: Answer, pages: list[replies.Reply],
                 owner_id: int) -> None:
        super().__init__(timeout=POST_TIMEOUT_SECONDS)
        self.service = service
        self.message = message
        self.answer = answer
        self.pages = pages
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id  # the private message is the checker's alone anyway

    @discord.ui.button(label="Post publicly", style=discord.ButtonStyle.primary)
    async def post(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        button.disabled = True
        await interaction.response.edit_message(view=self)
        channel = self.message.channel
        messages = await self.service.outgoing(self.pages, self.answer, interaction.guild_id, channel.id)
        first, *rest = messages
        try:
            # a reply that does not ping the message's author; the rest follow in the channel
            await self.message.reply(**first, mention_author=False)
            for kwargs in rest:
                await channel.send(**kwargs)
        except discord.HTTPException as error:
            LOG.info("could not post a check publicly in channel %s: %s", channel.id, error)
            await interaction.followup.send("I could not post in that channel (I may lack Send Messages or Embed "
                                            "Links there); the passages above are still yours to share.",
                                            ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.followup.send(POSTED, ephemeral=True, allowed_mentions=NO_PINGS)

    async def on_error(self, interaction: discord.Interaction, error: Exception, _: discord.ui.Item) -> None:
        await answer_fault(interaction, error)
