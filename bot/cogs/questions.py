"""Questions asked in messages: in question channels, by mention, or in DMs; answered in order per channel."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from .. import limits
from ..notices import tell_author
from ..routing import Incoming, question_from
from ..service import Service

log = logging.getLogger("bot")
THREAD_NAME_CHARS = 100  # Discord's limit on a thread's name
COOLDOWN_NOTICE = "Please wait {seconds} s before asking again; your last question was not searched."
COOLDOWN_NOTICE_MIN_SECONDS = 5  # long enough to read, when the notice has to go in the channel


class Questions(commands.Cog):
    def __init__(self, bot: commands.Bot, service: Service) -> None:
        self.bot = bot
        self.service = service

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None:
            return
        settings = self.service.settings_for(message.guild.id if message.guild else None)
        question = question_from(incoming(message, me), me.id, self.service.config, settings.question_channels)
        if question is None:
            return
        try:
            await self.answer_message(message, question)
        except discord.HTTPException as error:  # say why in plain words; a traceback would not
            self.service.lost_replies.log(error, message.channel)

    async def answer_message(self, message: discord.Message, question: str) -> None:
        service = self.service
        guild_id = message.guild.id if message.guild else None
        wait = service.cooldown.retry_after(message.author.id)
        if wait:
            text = COOLDOWN_NOTICE.format(seconds=max(1, round(wait)))
            await tell_author(message, text, max(wait, COOLDOWN_NOTICE_MIN_SECONDS))
            return
        async with service.turns.turn(message.channel.id) as after_previous:
            async with message.channel.typing():
                answer, pages = await service.search(question, service.settings_for(guild_id).count, guild_id,
                                                     message.channel.id, message.author.id)
            messages = await service.outgoing(pages, answer, guild_id, message.channel.id)
            await after_previous()
            if pages[0].private:
                await tell_author(message, pages[0].content)
            else:
                await self.send_replies(message, messages)

    async def send_replies(self, message: discord.Message, messages: list[dict]) -> None:
        """The first message replies to the question and the rest follow it, in a thread when so configured."""
        first, *rest = messages
        place: discord.abc.Messageable | None = await self.reply_in_thread(message, first)
        if place is None:
            place = message.channel
            await message.reply(**first, mention_author=False)
        for kwargs in rest:
            await place.send(**kwargs)

    async def reply_in_thread(self, message: discord.Message, first: dict) -> discord.Thread | None:
        """Open a thread on the question and send `first` there when replies go in threads; None if not sent."""
        settings = self.service.settings_for(message.guild.id if message.guild else None)
        if not (settings.reply_in_thread and isinstance(message.channel, discord.TextChannel)):
            return None
        try:
            name = limits.fit(message.clean_content, THREAD_NAME_CHARS) or "Question"
            thread = await message.create_thread(name=name)
            await thread.send(**first)
            return thread
        except discord.HTTPException as error:
            log.warning("could not reply in a thread (%s); replying in the channel", error)
            return None


def incoming(message: discord.Message, me: discord.ClientUser) -> Incoming:
    channel = message.channel
    return Incoming(
        content=message.content,
        author_is_bot=message.author.bot,
        is_direct=isinstance(channel, discord.DMChannel),
        channel_id=channel.id,
        parent_channel_id=getattr(channel, "parent_id", None),
        mentions_us=any(user.id == me.id for user in message.mentions),  # @everyone is not a question to us
    )
