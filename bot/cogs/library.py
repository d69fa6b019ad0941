"""/sources lists the sources a server answers from (the shared library and its own); /source shows one, paragraph
by paragraph, with ids completed as you type."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import discord
from discord import app_commands
from discord.ext import commands

from retrieval import RetrievalError, Source

from .. import limits, replies
from ..discord_reply import message_kwargs
from ..markdown import without_bidi_controls
from ..notices import tell
from ..paging import Pager
from ..service import Service, own_sources


class Library(commands.Cog):
    def __init__(self, service: Service) -> None:
        self.service = service

    @app_commands.command(name="sources", description="List every source with its id, title, author, date, "
                          "publication and kind")
    @app_commands.describe(this_server="Only the documents this server added itself")
    async def sources(self, interaction: discord.Interaction, this_server: bool = False) -> None:
        retriever = await self.service.library(interaction.guild_id)
        own = own_sources(retriever)
        listed = [s for s in retriever.sources.values() if s.id in own or not this_server]
        if not listed:
            await tell(interaction, "This server has added no documents of its own; it answers from the shared "
                       "sources (/sources lists them).")
            return
        counts = {s.id: retriever.answerable_count(s.id) for s in listed}
        await self.send_pages(interaction, replies.sources_pages(listed, counts, own))

    @app_commands.command(name="source", description="Show one source's details and full text, paragraph by "
                          "paragraph")
    @app_commands.rename(source_id="id")
    @app_commands.describe(source_id="The source id (start typing an id or a title)",
                           paragraph="Open at this paragraph number")
    async def source(self, interaction: discord.Interaction, source_id: str,
                     paragraph: app_commands.Range[int, 1] | None = None) -> None:
        retriever = await self.service.library(interaction.guild_id)
        try:
            found = retriever.source(source_id)
        except RetrievalError:
            await interaction.response.send_message(**message_kwargs(replies.unknown_source_reply(source_id)),
                                                    ephemeral=True)
            return
        # on the search thread: a retrieval service answers this over HTTP, which must not hold up the event loop
        passages = await asyncio.get_running_loop().run_in_executor(self.service.searcher, retriever.passages_of,
                                                                    found.id)
        if paragraph is not None and paragraph > passages[-1].paragraph:
            await tell(interaction, replies.no_such_paragraph(found, passages))
            return
        pages = replies.source_pages(found, passages)
        start = replies.page_of_paragraph(pages, paragraph) if paragraph else 0
        await self.send_pages(interaction, pages, start)

    @source.autocomplete("source_id")
    async def source_ids(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        retriever = await self.service.library(interaction.guild_id)
        return choices(retriever.sources.values(), current)

    async def send_pages(self, interaction: discord.Interaction, pages: list[replies.Reply], start: int = 0) -> None:
        if len(pages) == 1:
            await interaction.response.send_message(**message_kwargs(pages[0]))
            return
        pager = Pager(pages, interaction, start, timeout=self.service.pager_timeout)
        await interaction.response.send_message(**pager.current())


def choices(sources: Iterable[Source], typed: str) -> list[app_commands.Choice[str]]:
    """Autocomplete's choices among these sources for what was typed. A choice's name is plain text (Discord shows
    its markdown and mentions as typed, and a backslash too), so only the direction controls are dropped."""
    return [app_commands.Choice(name=limits.fit(without_bidi_controls(f"{s.id} — {s.title}"), limits.CHOICE_TEXT),
                                value=s.id)
            for s in matching_sources(sources, typed)]


def matching_sources(sources: Iterable[Source], typed: str) -> list[Source]:
    """Sources whose id or title contains what was typed, ids that start with it first; at most 25."""
    typed = typed.strip().lower()
    found = [s for s in sources
             if len(s.id) <= limits.CHOICE_TEXT and (typed in s.id.lower() or typed in s.title.lower())]
    found.sort(key=lambda s: (not s.id.lower().startswith(typed), s.id))
    return found[:limits.CHOICES]
