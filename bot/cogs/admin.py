"""Commands for server managers, on their server's own library only (the shared sources are the operator's):
/add-source indexes a document there, /remove-source takes one out, /reindex rebuilds it. Each is refused to
members without Manage Server, and answers privately."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from retrieval import RetrievalError
from retrieval.libraries import Built, Libraries, NotIndexed

from .. import limits
from ..discord_reply import NO_PINGS
from ..markdown import escape
from ..notices import tell
from ..service import Service, own_sources
from .library import choices

LOG = logging.getLogger(__name__)
MANAGE_SERVER_ONLY = "Only members with the Manage Server permission can {what}."
NO_CONFIG = ("This bot has no index of its own (it answers from a retrieval service, or was started without an "
             "index configuration), so its sources cannot be changed from Discord.")
NOTHING_OWN = ("This server has added no documents of its own, so there is nothing of its own to rebuild; the "
               "shared sources are the bot operator's.")
NOT_INDEXED_ADDED = "The document was saved, but this server's library was not rebuilt, so it does not answer yet " \
    "(/reindex once this is fixed)"
NOT_INDEXED_REMOVED = "The document was moved aside, but this server's library was not rebuilt, so it still " \
    "answers (/reindex once this is fixed)"
SKIPPED_SHOWN = 10  # skipped files named in a reply; the rest are counted (the build's log names them all)


def managers_only():
    """Registered for Manage Server only; servers may override that, so each command checks again."""
    return lambda command: app_commands.guild_only()(app_commands.default_permissions(manage_guild=True)(command))


class Admin(commands.Cog):
    def __init__(self, service: Service) -> None:
        self.service = service

    @app_commands.command(name="reindex", description="Rebuild this server's own library from its documents "
                          "(admins)")
    @managers_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        if not await allowed(interaction, "rebuild this server's library"):
            return
        libraries = await self.libraries(interaction)
        if libraries is None:
            return
        if not libraries.has_library(interaction.guild_id):
            await tell(interaction, NOTHING_OWN)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        manifest = await self.change(interaction, "This server's library was not rebuilt",
                                     Stopped("this server's library", "rebuilt"), libraries.rebuild,
                                     interaction.guild_id)
        if manifest is not None:
            await private(interaction, f"This server's library rebuilt and in use: {built(manifest)}"
                          f"{skipped(manifest)}")

    @app_commands.command(name="add-source", description="Add a document (PDF, web page, Word, Markdown, text) to "
                          "this server's own sources (admins)")
    @app_commands.describe(document="The file: .pdf, .html, .docx, .md or .txt")
    @managers_only()
    async def add_source(self, interaction: discord.Interaction, document: discord.Attachment) -> None:
        if not await allowed(interaction, "add sources"):
            return
        libraries = await self.libraries(interaction)
        if libraries is None:
            return
        limit_mb = min(self.service.config.max_upload_mb, libraries.config.max_file_mb,
                       interaction.filesize_limit / 1e6)
        if document.size > limit_mb * 1e6:
            await tell(interaction, f"That file is {document.size / 1e6:,.1f} MB; the sources take files up to "
                       f"{limit_mb:g} MB. Split it, or raise `max_upload_mb` in the bot's config.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await document.read()
        except discord.HTTPException as error:
            await private(interaction, f"Discord did not give me the file ({error.status}); send it again.")
            return
        shared = frozenset(self.service.retriever.get().sources)
        done = await self.change(interaction, "The document was not added",
                                 Stopped(escape(document.filename), "added to this server's sources"), libraries.add,
                                 interaction.guild_id, document.filename, data, limit_mb, shared,
                                 not_indexed=NOT_INDEXED_ADDED)
        if done is not None:
            added, manifest = done
            await private(interaction, f"Added `{added.source_id}`, **{escape(added.title)}**, to this server's "
                          f"own sources: {added.passages} passages, answering now in this server only. "
                          f"This server's library: {built(manifest)}{skipped(manifest)}")

    @app_commands.command(name="remove-source", description="Take a document out of this server's own sources "
                          "(its file is kept aside) (admins)")
    @app_commands.rename(source_id="id")
    @app_commands.describe(source_id="The source id (start typing an id or a title)")
    @managers_only()
    async def remove_source(self, interaction: discord.Interaction, source_id: str) -> None:
        if not await allowed(interaction, "remove sources"):
            return
        libraries = await self.libraries(interaction)
        if libraries is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        shared = frozenset(self.service.retriever.get().sources)
        done = await self.change(interaction, "Nothing was removed",
                                 Stopped(f"`{escape(source_id)}`", "removed from this server's sources"),
                                 libraries.remove, interaction.guild_id, source_id, shared,
                                 not_indexed=NOT_INDEXED_REMOVED)
        if done is not None:
            moved, manifest = done
            left = built(manifest) if manifest is not None else "it holds no documents now."
            await private(interaction, f"Removed `{source_id}` from this server's sources; its file is kept aside "
                          f"as {escape(moved.name)}. This server's library: {left}")

    @remove_source.autocomplete("source_id")
    async def source_ids(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        retriever = await self.service.library(interaction.guild_id)
        own = own_sources(retriever)
        return choices([s for s in retriever.sources.values() if s.id in own], current)

    async def libraries(self, interaction: discord.Interaction) -> Libraries | None:
        """The servers' libraries, or None (and the asker told why) when this bot has no index of its own."""
        if self.service.libraries is None:
            await tell(interaction, NO_CONFIG)
        return self.service.libraries

    async def change(self, interaction: discord.Interaction, failed: str, stopped: Stopped, work, *args,
                     not_indexed: str = ""):
        """Run a change of a server's library on the library pool, in the server's own queue; on failure say
        `failed` (`not_indexed` when the change was made but the library not rebuilt) and why, in words for a
        manager, and return None. The log gets the error in full (the folder, the store's address): a warning
        when the manager was told less, since only whoever runs the bot can act on that. Should a stop cut the
        command short, its asker is told how far the change got (`stopped`)."""
        future = self.service.libraries.submit(interaction.guild_id, work, *args)
        self.service.in_flight.on_stop(lambda: stopped.told(future))
        try:
            return await asyncio.wrap_future(future)
        except RetrievalError as error:
            said = not_indexed if isinstance(error, NotIndexed) and not_indexed else failed
            level = logging.INFO if error.public == str(error) else logging.WARNING
            LOG.log(level, "%s in guild %s: %s", said, interaction.guild_id, error)
            await private(interaction, f"{said}: {escape(error.public)}")
            return None


@dataclass(frozen=True)
class Stopped:
    """What a change's asker is told when a stop cuts the command short, by how far the change got: `thing`
    was (not, or is being) `done`."""

    thing: str
    done: str

    def told(self, change: Future) -> str:
        if change.cancelled():  # still queued: it never started
            return (f"The bot is restarting, so {self.thing} was not {self.done}; nothing changed. Try again in a "
                    "minute.")
        if not change.done():
            return (f"The bot is restarting while {self.thing} was being {self.done}: it finishes that before it "
                    "stops, and indexes what it saved but could not index when it starts again; /sources shows "
                    "the result in a minute.")
        if (error := change.exception()) is not None:
            reason = error.public if isinstance(error, RetrievalError) else "see the bot's log"
            return f"The bot is restarting; {self.thing} was not {self.done}: {escape(reason)}"
        return f"The bot is restarting; {self.thing} was {self.done} before it stopped."


async def allowed(interaction: discord.Interaction, what: str) -> bool:
    if interaction.permissions.manage_guild:
        return True
    await tell(interaction, MANAGE_SERVER_ONLY.format(what=what))
    return False


async def private(interaction: discord.Interaction, text: str) -> None:
    await interaction.followup.send(limits.fit(text, limits.CONTENT), ephemeral=True, allowed_mentions=NO_PINGS)


def built(manifest: Built) -> str:
    return (f"{manifest.vectors} passages from {manifest.sources} sources ({manifest.embedded} embedded, the rest "
            f"unchanged) in {manifest.build_seconds:.1f} s.")


def skipped(manifest: Built) -> str:
    """The files the build left out, and why, so a manager can fix them."""
    left_out = manifest.skipped
    if not left_out:
        return ""
    named = [f"{escape(s['file'])}: {escape(s['reason'])}" for s in left_out[:SKIPPED_SHOWN]]
    more = [f"and {len(left_out) - SKIPPED_SHOWN} more (the bot's log names them)"] if len(left_out) > SKIPPED_SHOWN \
        else []
    return f"\n{len(left_out)} file(s) could not be read and were left out:\n" + "\n".join(f"- {x}" for x in
                                                                                           [*named, *more])
