"""The slash commands: /ask a question, list /sources, and read one /source paragraph by paragraph."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from retrieval import RetrievalError

from . import limits, replies
from .discord_reply import NO_PINGS, message_kwargs
from .notices import answer_fault, tell
from .paging import Pager

if TYPE_CHECKING:
    from .app import SourceBot

COOLDOWN_NOTICE = "Please wait {seconds} s before asking again; your question was not searched."
QUESTION_MAX_CHARS = 2000  # Discord's own cap on a string option is 6000; a question never needs more


def register_commands(bot: SourceBot) -> None:
    """Add /ask, /sources and /source to the bot's command tree."""

    @bot.tree.error
    async def on_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await answer_fault(interaction, getattr(error, "original", error))

    @bot.tree.command(name="ask", description="Ask a question; get the closest source passages, quoted, with citations")
    @app_commands.describe(question="What you want to know",
                           count=f"How many passages to show (1-{limits.MAX_COUNT})",
                           private="Only you see the answer")
    async def ask(interaction: discord.Interaction, question: app_commands.Range[str, 1, QUESTION_MAX_CHARS],
                  count: app_commands.Range[int, 1, limits.MAX_COUNT] | None = None,
                  private: bool | None = None) -> None:
        ephemeral = bot.config.private_replies if private is None else private
        wait = bot.cooldown.retry_after(interaction.user.id)
        if wait:
            await tell(interaction, COOLDOWN_NOTICE.format(seconds=max(1, round(wait))))
            return
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        answer, pages = await bot.search(question, count, interaction.guild_id, interaction.channel_id,
                                         interaction.user.id)
        messages = await bot.outgoing(pages, answer, interaction.guild_id, interaction.channel_id)
        if answer is None:  # a refusal or a fault: for the asker only
            await tell(interaction, **messages[0])
            return
        for kwargs in messages:  # the first replaces "thinking…"; more follow when one message cannot hold all
            await interaction.followup.send(**kwargs, ephemeral=ephemeral)

    @bot.tree.command(name="sources", description="List every source with its id, title, author and date")
    async def sources(interaction: discord.Interaction) -> None:
        retriever = bot.retriever
        counts = {sid: retriever.answerable_count(sid) for sid in retriever.sources}
        pages = replies.sources_pages(list(retriever.sources.values()), counts)
        await send_pages(interaction, pages)

    @bot.tree.command(name="source", description="Show one source's details and full text, paragraph by paragraph")
    @app_commands.rename(source_id="id")
    @app_commands.describe(source_id="The source id (start typing an id or a title)",
                           paragraph="Open at this paragraph number")
    async def source(interaction: discord.Interaction, source_id: str,
                     paragraph: app_commands.Range[int, 1] | None = None) -> None:
        try:
            found = bot.retriever.source(source_id)
        except RetrievalError:
            await interaction.response.send_message(**message_kwargs(replies.unknown_source_reply(source_id)),
                                                    ephemeral=True)
            return
        passages = bot.retriever.passages_of(found.id)
        pages = replies.source_pages(found, passages)
        if paragraph is not None and paragraph > passages[-1].paragraph:
            await tell(interaction, f"`{found.id}` has paragraphs 1 to {passages[-1].paragraph}.")
            return
        start = replies.page_of_paragraph(pages, paragraph) if paragraph else 0
        await send_pages(interaction, pages, start)

    @bot.tree.command(name="reindex", description="Rebuild the index from the sources and switch to it (admins)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def reindex(interaction: discord.Interaction) -> None:
        if not interaction.permissions.manage_guild:  # default_permissions can be overridden by a server
            await tell(interaction, "Only members with the Manage Server permission can rebuild the index.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            fresh = await bot.reloader.reload(rebuild=True)
        except RetrievalError as error:
            await interaction.followup.send(**message_kwargs(replies.error_reply(f"The index was not rebuilt: "
                                                                                   f"{error}")), ephemeral=True)
            return
        manifest = fresh.index.manifest
        await interaction.followup.send(
            f"Index rebuilt and in use: {manifest.vectors} passages from {manifest.sources} sources "
            f"({manifest.embedded} embedded, the rest unchanged) in {manifest.build_seconds:.1f} s.",
            ephemeral=True, allowed_mentions=NO_PINGS)

    @source.autocomplete("source_id")
    async def source_ids(_: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=limits.fit(f"{s.id} — {s.title}", limits.CHOICE_TEXT), value=s.id)
                for s in matching_sources(bot, current)]


def matching_sources(bot: SourceBot, typed: str):
    """Sources whose id or title contains what was typed, ids that start with it first; at most 25."""
    typed = typed.strip().lower()
    found = [s for s in bot.retriever.sources.values()
             if len(s.id) <= limits.CHOICE_TEXT and (typed in s.id.lower() or typed in s.title.lower())]
    found.sort(key=lambda s: (not s.id.lower().startswith(typed), s.id))
    return found[:limits.CHOICES]


async def send_pages(interaction: discord.Interaction, pages: list[replies.Reply], start: int = 0) -> None:
    if len(pages) == 1:
        await interaction.response.send_message(**message_kwargs(pages[0]))
        return
    await interaction.response.send_message(**Pager(pages, interaction.user.id, start).current())
