"""Questions asked in messages: in question channels, by mention, or in DMs; answered in order per channel."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from .. import limits
from ..markdown import without_bidi_controls
from ..notices import tell_author
from ..routing import Incoming, question_from
from ..service import Service
from ..stopping import RESTARTING
from ..threads import ThreadMemory

LOG = logging.getLogger(__name__)
THREAD_NAME_CHARS = 100  # Discord's limit on a thread's name
COOLDOWN_NOTICE = "Please wait {seconds} s before asking again; your last question was not searched."
COOLDOWN_NOTICE_MIN_SECONDS = 5  # long enough to read, when the notice has to go in the channel
ANSWERED_TAG = "answered"  # a forum tag of this name (any case) marks the posts the bot found passages for
MAX_TAGS = 5  # Discord's limit on tags per forum post


class Questions(commands.Cog):
    def __init__(self, bot: commands.Bot, service: Service) -> None:
        self.bot = bot
        self.service = service
        self.untaggable: set[int] = set()  # forums where tagging failed, so the log says it once

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None:
            return
        settings = self.service.settings_for(message.guild.id if message.guild else None)
        seen = incoming(message, me, self.service.threads)
        question = question_from(seen, me.id, self.service.config, settings.question_channels)
        if question is None:
            return
        post = forum_post(message)
        if post is not None:  # a forum post asks in its title and its first message together
            question = " ".join(f"{post.name} {question}".split())
        if not self.service.in_flight.accepting:
            if self.service.in_flight.first_refusal(message.author.id):
                await tell_author(message, RESTARTING)
            return
        self.service.in_flight.track(lambda text: tell_author(message, text))
        try:
            await self.answer_message(message, question, post)
        except discord.HTTPException as error:  # say why in plain words; a traceback would not
            self.service.lost_replies.log(error, message.channel)

    async def answer_message(self, message: discord.Message, question: str, post: discord.Thread | None) -> None:
        service = self.service
        guild_id = message.guild.id if message.guild else None
        wait = service.retry_after(message.author.id, guild_id)
        if wait:
            if service.cooldown.first_notice(message.author.id):  # the rest of a flood is dropped silently
                text = COOLDOWN_NOTICE.format(seconds=max(1, round(wait)))
                await tell_author(message, text, max(wait, COOLDOWN_NOTICE_MIN_SECONDS))
            return
        channel = message.channel
        previous = service.threads.previous(channel.id) if post is None else None
        async with service.turns.turn(channel.id) as after_previous:
            async with channel.typing():
                answer, pages = await service.search(question, service.settings_for(guild_id).count, guild_id,
                                                     channel.id, message.author.id, previous)
            messages = await service.outgoing(pages, answer, guild_id, channel.id)
            await after_previous()
            if pages[0].private:
                await tell_author(message, pages[0].content)
                return
            thread = await self.send_replies(message, messages)
        if thread is not None and answer is not None:
            service.threads.remember(thread.id, answer.query)  # what was searched: a follow-up's own follow-up
        if post is not None and answer is not None and answer.covered:
            await self.tag_answered(post)

    async def tag_answered(self, post: discord.Thread) -> None:
        """Apply the forum's `answered` tag, when it has one, to a post whose answer found passages."""
        forum = post.parent
        tag = next((t for t in getattr(forum, "available_tags", []) if t.name.lower() == ANSWERED_TAG), None)
        if tag is None or tag in post.applied_tags or len(post.applied_tags) >= MAX_TAGS:
            return
        try:
            await post.add_tags(tag, reason="the bot answered this post from the sources")
        except discord.HTTPException as error:
            if post.parent_id not in self.untaggable:  # once per forum: the fix is a permission, not a retry
                self.untaggable.add(post.parent_id)
                LOG.warning("cannot tag posts in forum %s (%s); give the bot Manage Threads there", post.parent_id,
                            error)

    async def send_replies(self, message: discord.Message, messages: list[dict]) -> discord.Thread | None:
        """The first message replies to the question and the rest follow it, in a thread when so configured.
        Returns the thread the answer went to, if any (for follow-ups)."""
        first, *rest = messages
        place: discord.abc.Messageable | None = await self.reply_in_thread(message, first)
        if place is None:
            place = message.channel
            await message.reply(**first, mention_author=False)
        for kwargs in rest:
            await place.send(**kwargs)
        return place if isinstance(place, discord.Thread) else None

    async def reply_in_thread(self, message: discord.Message, first: dict) -> discord.Thread | None:
        """Open a thread on the question and send `first` there when replies go in threads; None if not sent."""
        settings = self.service.settings_for(message.guild.id if message.guild else None)
        if not (settings.reply_in_thread and isinstance(message.channel, discord.TextChannel)):
            return None
        try:
            name = limits.fit(without_bidi_controls(message.clean_content), THREAD_NAME_CHARS) or "Question"
            thread = await message.create_thread(name=name)
            await thread.send(**first)
            return thread
        except discord.HTTPException as error:
            LOG.warning("could not reply in a thread (%s); replying in the channel", error)
            return None


def incoming(message: discord.Message, me: discord.ClientUser, answered: ThreadMemory) -> Incoming:
    channel = message.channel
    return Incoming(
        content=message.content,
        author_is_bot=message.author.bot,
        is_direct=isinstance(channel, discord.DMChannel),
        channel_id=channel.id,
        parent_channel_id=getattr(channel, "parent_id", None),
        mentions_us=any(user.id == me.id for user in message.mentions),  # @everyone is not a question to us
        in_answered_thread=channel.id in answered,
    )


def forum_post(message: discord.Message) -> discord.Thread | None:
    """The forum post a message opens (its starter message has the thread's id), else None."""
    channel = message.channel
    if isinstance(channel, discord.Thread) and channel.id == message.id and \
            isinstance(channel.parent, discord.ForumChannel):
        return channel
    return None
