"""/settings for server managers: see and change this server's settings, stored at once and kept across
restarts; and /report: what the sources don't cover, from the questions this server asked."""

from __future__ import annotations

import asyncio
import enum
import io
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace
from typing import TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from retrieval.questions.report import Report

from .. import limits
from ..database import DatabaseError
from ..discord_reply import NO_PINGS
from ..markdown import escape
from ..notices import tell
from ..question_log import QuestionLog
from ..service import Service
from ..settings_store import ServerSettings
from .admin import allowed, private

LOG = logging.getLogger(__name__)
T = TypeVar("T")
NOT_SAVED = "Your change was not saved: {reason}. This server keeps its previous settings."
MAX_QUESTION_CHANNELS = 50  # more than any server needs; keeps /settings show within one message
REPORT_LISTED = 5  # groups listed per part in the Discord summary; the CSV has them all


class Action(enum.Enum):
    add = "add"
    remove = "remove"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ServerSettingsCog(commands.GroupCog, group_name="settings",
                        group_description="See and change how the bot answers in this server (admins)"):
    def __init__(self, service: Service) -> None:
        self.service = service
        super().__init__()

    @app_commands.command(name="show", description="This server's settings")
    async def show(self, interaction: discord.Interaction) -> None:
        if await allowed(interaction, "see the bot's settings"):
            await tell(interaction, describe(self.service.settings_for(interaction.guild_id), self.service))

    @app_commands.command(name="set", description="Change one or more of this server's settings")
    @app_commands.describe(private_replies="Answer /ask privately unless the asker says otherwise",
                           reply_in_thread="Answer channel questions in a new thread",
                           cooldown_seconds="Seconds a member waits between two questions (0: no wait)",
                           count="Passages per answer at most",
                           min_relevance="Only answer when the best passage's relevance reaches this (can only "
                                         "be stricter than the bot's own)",
                           keep_questions="Keep questions and votes for /report (off: nothing members write is "
                                          "stored)")
    async def set(self, interaction: discord.Interaction, private_replies: bool | None = None,
                  reply_in_thread: bool | None = None,
                  cooldown_seconds: app_commands.Range[float, 0, 3600] | None = None,
                  count: app_commands.Range[int, 1, limits.MAX_COUNT] | None = None,
                  min_relevance: app_commands.Range[float, 0, 1] | None = None,
                  keep_questions: bool | None = None) -> None:
        if not await allowed(interaction, "change the bot's settings"):
            return
        given = {"private_replies": private_replies, "reply_in_thread": reply_in_thread,
                 "cooldown_seconds": cooldown_seconds, "count": count, "min_relevance": min_relevance,
                 "keep_questions": keep_questions}
        changes = {k: v for k, v in given.items() if v is not None}
        if not changes:
            await tell(interaction, "Give at least one setting to change; `/settings show` lists them.")
            return
        library = self.service.retriever.get().settings.min_relevance
        if min_relevance is not None and min_relevance <= library:
            changes["min_relevance"] = None  # the library's own threshold: the least strict a server may have
        current = self.service.settings_for(interaction.guild_id)
        await self.save(interaction, replace(current, **changes))

    @app_commands.command(name="channel", description="Add or remove a question channel (every message there is "
                          "a question)")
    @app_commands.describe(action="Add or remove", channel="A text or forum channel")
    async def channel(self, interaction: discord.Interaction, action: Action,
                      channel: discord.TextChannel | discord.ForumChannel) -> None:
        if not await allowed(interaction, "change the bot's settings"):
            return
        current = self.service.settings_for(interaction.guild_id)
        channels = [c for c in current.question_channels if c != channel.id]
        if action is Action.add:
            if len(channels) >= MAX_QUESTION_CHANNELS:
                await tell(interaction, f"A server can have at most {MAX_QUESTION_CHANNELS} question channels.")
                return
            channels.append(channel.id)
        await self.save(interaction, replace(current, question_channels=tuple(channels)))

    @app_commands.command(name="reset", description="Back to the bot's own settings (its config file's)")
    async def reset(self, interaction: discord.Interaction) -> None:
        if await allowed(interaction, "change the bot's settings"):
            await self.save(interaction, self.service.defaults)

    @app_commands.command(name="forget-questions", description="Delete every question this server asked and the "
                          "votes on them")
    async def forget_questions(self, interaction: discord.Interaction) -> None:
        if not await allowed(interaction, "delete the questions kept"):
            return
        deleted = await with_question_log(self.service, interaction, "Nothing was deleted",
                                          lambda store: store.forget(interaction.guild_id), self.service.writer)
        if deleted is not None:
            await interaction.followup.send(f"Deleted {deleted} questions and the votes on them.", ephemeral=True,
                                            allowed_mentions=NO_PINGS)

    async def save(self, interaction: discord.Interaction, settings: ServerSettings) -> None:
        """Store the settings, then say so. Acknowledged first: another program holding the database (a backup,
        an sqlite3 shell) can make the write wait longer than the 3 s Discord gives a bot to answer."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await self.service.change_settings(interaction.guild_id, settings, interaction.user.id)
        except DatabaseError as error:
            LOG.warning("settings of guild %s not saved: %s", interaction.guild_id, error)
            await private(interaction, NOT_SAVED.format(reason=escape(error.public)))
            return
        await private(interaction, "Saved; in effect now.\n" + describe(settings, self.service))


def describe(settings: ServerSettings, service: Service) -> str:
    """The settings as a manager reads them, each with what it means."""
    library = service.retriever.get().settings
    channels = ", ".join(f"<#{c}>" for c in settings.question_channels) or "none (mentions and /ask only)"
    relevance = settings.min_relevance if settings.min_relevance is not None else library.min_relevance
    lines = ["**This server's settings**",
             f"question channels: {channels}",
             f"private replies (/ask): {on(settings.private_replies)}",
             f"reply in threads: {on(settings.reply_in_thread)}",
             f"cooldown: {settings.cooldown_seconds:g} s",
             f"passages per answer: {settings.count or library.top_k}",
             f"relevance threshold: {relevance:g}" + ("" if settings.min_relevance is not None else " (the bot's)"),
             f"keep questions: {on(settings.keep_questions)}" + (" — questions, the passages they got and votes "
                                                                 "are stored for /report" if settings.keep_questions
                                                                 else " — nothing members write is stored")]
    return limits.fit("\n".join(lines), limits.CONTENT)


def on(value: bool) -> str:
    return "on" if value else "off"


class ReportCog(commands.Cog):
    def __init__(self, service: Service) -> None:
        self.service = service

    @app_commands.command(name="report", description="What the sources don't cover: questions not covered, "
                          "voted down, most asked (admins)")
    @app_commands.describe(days="The period, in days (default 30)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def report(self, interaction: discord.Interaction,
                     days: app_commands.Range[int, 1, 3650] = 30) -> None:
        if not await allowed(interaction, "see the report"):
            return
        found = await with_question_log(self.service, interaction, "The report could not be made",
                                        lambda store: store.questions_report(days, interaction.guild_id),
                                        self.service.reader)
        if found is None:
            return
        files = [discord.File(io.BytesIO(found.csv().encode()), filename="report.csv"),
                 discord.File(io.BytesIO(found.gold().encode()), filename="candidate-gold.toml")]
        await interaction.followup.send(embed=summary(found), files=files, ephemeral=True,
                                        allowed_mentions=NO_PINGS)


async def with_question_log(service: Service, interaction: discord.Interaction, failed: str,
                            work: Callable[[QuestionLog], T], thread: Executor) -> T | None:
    """`work` on the question log, on `thread` (the writer's to change it, the reader's to read it), after
    deferring privately; None (and the user told why, after `failed`) when the log cannot be used."""
    store = service.votes.store
    if store is None:
        await tell(interaction, "No questions are kept: the bot's database could not be opened.")
        return None
    await interaction.response.defer(ephemeral=True, thinking=True)
    await service.votes.settled()  # the questions answered just before are in the log
    try:
        return await asyncio.get_running_loop().run_in_executor(thread, work, store)
    except DatabaseError as error:
        LOG.warning("%s for guild %s: %s", failed, interaction.guild_id, error)
        await private(interaction, f"{failed}: {escape(error.public)}.")
        return None


def summary(found: Report) -> discord.Embed:
    """The report's first groups of each part; the attached CSV has them all."""
    embed = discord.Embed(title=f"Questions in the last {found.days:g} days: {found.questions}")
    for name, groups in (("Not covered by the sources", found.not_covered), ("Voted 👎", found.voted_down),
                         ("Most asked", found.most_asked)):
        lines = [f"{g.times}x {escape(g.question)}" for g in groups[:REPORT_LISTED]]
        embed.add_field(name=f"{name} ({len(groups)})", inline=False,
                        value=limits.fit("\n".join(lines) or "none", limits.FIELD_VALUE))
    embed.set_footer(text="All of it in report.csv; candidate-gold.toml holds the questions that went wrong, "
                          "ready to become gold questions.")
    return embed
