"""Commands for server managers: /reindex rebuilds the index from the sources; /add-source and /remove-source
change the sources and rebuild. Each is refused to members without Manage Server, and answers privately."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from retrieval import RetrievalConfig, RetrievalError, Retriever, add_document, remove_document

from .. import limits, replies
from ..discord_reply import NO_PINGS, message_kwargs
from ..markdown import escape
from ..notices import tell
from ..service import Service
from .library import matching_sources

MANAGE_SERVER_ONLY = "Only members with the Manage Server permission can {what}."
NO_CONFIG = ("This bot has no index of its own (it answers from a retrieval service, or was started without an "
             "index configuration), so its sources cannot be changed from Discord.")
SKIPPED_SHOWN = 10  # skipped files named in a reply; the rest are counted (the build's log names them all)


def managers_only():
    """Registered for Manage Server only; servers may override that, so each command checks again."""
    return lambda command: app_commands.guild_only()(app_commands.default_permissions(manage_guild=True)(command))


class Admin(commands.Cog):
    def __init__(self, service: Service) -> None:
        self.service = service

    @app_commands.command(name="reindex", description="Rebuild the index from the sources and switch to it "
                          "(admins)")
    @managers_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        if not await allowed(interaction, "rebuild the index"):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        fresh = await self.rebuild(interaction, "The index was not rebuilt")
        if fresh is not None:
            await private(interaction, f"Index rebuilt and in use: {built(fresh)}{skipped(fresh)}")

    @app_commands.command(name="add-source", description="Add a document (PDF, web page, Word, Markdown, text) to "
                          "the sources and index it (admins)")
    @app_commands.describe(document="The file: .pdf, .html, .docx, .md or .txt")
    @managers_only()
    async def add_source(self, interaction: discord.Interaction, document: discord.Attachment) -> None:
        if not await allowed(interaction, "add sources"):
            return
        config = self.service.retrieval
        if config is None:
            await tell(interaction, NO_CONFIG)
            return
        limit_mb = min(self.service.config.max_upload_mb, config.max_file_mb, interaction.filesize_limit / 1e6)
        if document.size > limit_mb * 1e6:
            await tell(interaction, f"That file is {document.size / 1e6:,.1f} MB; the sources take files up to "
                       f"{limit_mb:g} MB. Split it, or raise `max_upload_mb` in the bot's config.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await document.read()
            add = functools.partial(add_document, config.sources, document.filename, data, limit_mb, config.reading)
            added = await asyncio.get_running_loop().run_in_executor(self.service.reloader.builder, add)
        except discord.HTTPException as error:
            await private(interaction, f"Discord did not give me the file ({error.status}); send it again.")
            return
        except RetrievalError as error:
            await private(interaction, f"The document was not added: {escape(str(error))}")
            return
        fresh = await self.rebuild(interaction, f"`{added.source_id}` was saved, but the index was not rebuilt, so "
                                   "it does not answer yet; run /reindex")
        if fresh is not None:
            await private(interaction, f"Added `{added.source_id}`, **{escape(added.title)}**: "
                          f"{added.passages} passages, answering now. Index: {built(fresh)}{skipped(fresh)}")

    @app_commands.command(name="remove-source", description="Take a document out of the sources (kept in "
                          ".removed/) and rebuild the index (admins)")
    @app_commands.rename(source_id="id")
    @app_commands.describe(source_id="The source id (start typing an id or a title)")
    @managers_only()
    async def remove_source(self, interaction: discord.Interaction, source_id: str) -> None:
        if not await allowed(interaction, "remove sources"):
            return
        config = self.service.retrieval
        if config is None:
            await tell(interaction, NO_CONFIG)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        remove = functools.partial(remove_document, config.sources, source_id)
        try:
            moved = await asyncio.get_running_loop().run_in_executor(self.service.reloader.builder, remove)
        except RetrievalError as error:
            await private(interaction, f"Nothing was removed: {escape(str(error))}")
            return
        fresh = await self.rebuild(interaction, f"`{source_id}` was moved out of the sources, but the index was not "
                                   "rebuilt, so it still answers; run /reindex")
        if fresh is not None:
            await private(interaction, f"Removed `{source_id}`; its file is kept in {kept_where(config, moved)}. "
                          f"Index: {built(fresh)}{skipped(fresh)}")

    @remove_source.autocomplete("source_id")
    async def source_ids(self, _: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=limits.fit(f"{s.id} — {s.title}", limits.CHOICE_TEXT), value=s.id)
                for s in matching_sources(self.service.retriever.get(), current)]

    async def rebuild(self, interaction: discord.Interaction, failed: str) -> Retriever | None:
        """Rebuild and switch to the new index; on failure say `failed` and why, and return None."""
        try:
            return await self.service.reloader.reload(rebuild=True)
        except RetrievalError as error:
            await interaction.followup.send(**message_kwargs(replies.error_reply(f"{failed}: {error}")),
                                            ephemeral=True)
            return None


async def allowed(interaction: discord.Interaction, what: str) -> bool:
    if interaction.permissions.manage_guild:
        return True
    await tell(interaction, MANAGE_SERVER_ONLY.format(what=what))
    return False


async def private(interaction: discord.Interaction, text: str) -> None:
    await interaction.followup.send(limits.fit(text, limits.CONTENT), ephemeral=True, allowed_mentions=NO_PINGS)


def built(fresh: Retriever) -> str:
    manifest = fresh.index.manifest
    return (f"{manifest.vectors} passages from {manifest.sources} sources ({manifest.embedded} embedded, the rest "
            f"unchanged) in {manifest.build_seconds:.1f} s.")


def skipped(fresh: Retriever) -> str:
    """The files the build left out, and why, so a manager can fix them."""
    left_out = fresh.index.manifest.skipped
    if not left_out:
        return ""
    named = [f"{escape(s['file'])}: {escape(s['reason'])}" for s in left_out[:SKIPPED_SHOWN]]
    more = [f"and {len(left_out) - SKIPPED_SHOWN} more (the bot's log names them)"] if len(left_out) > SKIPPED_SHOWN \
        else []
    return f"\n{len(left_out)} file(s) could not be read and were left out:\n" + "\n".join(f"- {x}" for x in
                                                                                           [*named, *more])


def kept_where(config: RetrievalConfig, moved: Path) -> str:
    try:
        return f"{escape(moved.relative_to(config.sources).as_posix())} in the sources folder"
    except ValueError:
        return escape(str(moved))
