"""The Discord client: one Service handed to the cogs that hold the commands, the buttons and the message
handling. Nothing imports this module but the entry points."""

from __future__ import annotations

import asyncio
import logging
import signal

import discord
from discord import app_commands
from discord.ext import commands

from retrieval import RetrievalConfig, Retriever

from .cogs import add_cogs
from .config import BotConfig
from .discord_reply import NO_PINGS
from .notices import answer_fault, tell
from .service import Service
from .stopping import RESTARTING

LOG = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)  # what process managers and Ctrl-C send


class SourceBot(commands.Bot):
    """A bot that answers questions by quoting the sources. discord.py's commands.Bot for its Cogs, one per
    concern; it has no prefix commands: messages are questions, handled by the Questions cog."""

    def __init__(self, service: Service, **options) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: needed to read questions in question channels
        super().__init__(command_prefix=commands.when_mentioned, help_command=None, intents=intents,
                         allowed_mentions=NO_PINGS, tree_cls=SourceTree, **options)
        self.service = service
        self.stopping: asyncio.Task | None = None  # the stop a signal started
        self.tree.error(on_tree_error)

    async def setup_hook(self) -> None:
        await add_cogs(self, self.service)
        self.add_dynamic_items(self.service.votes.button)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.service.reloader.reload_logged()))
        for stop in STOP_SIGNALS:
            loop.add_signal_handler(stop, self.stop_on_signal, stop)
        config = self.service.config
        if config.sync_commands == "global":
            synced = await self.tree.sync()
            LOG.info("synced %d commands globally", len(synced))
        elif config.sync_commands == "guilds":
            for guild_id in config.sync_guilds:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                LOG.info("synced %d commands to guild %s", len(synced), guild_id)

    async def on_message(self, message: discord.Message) -> None:
        """Replaces commands.Bot's, which would parse a mention as a prefix command: there are none, and an
        unknown one is logged as an error."""

    def stop_on_signal(self, signum: int) -> None:
        """SIGTERM or SIGINT: stop gently (see `stop`); a second one ends the grace period at once."""
        name = signal.Signals(signum).name
        if self.stopping is not None:
            LOG.info("%s again: the questions still being answered are told the bot is restarting now", name)
            self.service.in_flight.hurry.set()
            return
        LOG.info("%s: stopping", name)
        self.service.in_flight.stopping = True  # refused from this moment, not from the stop task's first step
        self.stopping = asyncio.get_running_loop().create_task(self.stop())

    async def stop(self) -> None:
        """Take no new questions, let those in hand finish within the grace period, tell the rest privately
        that the bot is restarting, then close (the process then exits with status 0)."""
        await self.service.in_flight.drain(self.service.config.stop_grace_seconds)
        await self.close()

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for handled in (signal.SIGHUP, *STOP_SIGNALS):
            loop.remove_signal_handler(handled)
        await super().close()

    async def on_ready(self) -> None:
        LOG.info("logged in as %s (id %s) in %d guilds", self.user, self.user.id if self.user else "?",
                 len(self.guilds))


class SourceTree(app_commands.CommandTree):
    """The bot's commands, each answered in the Service's InFlight: a stop lets it finish or tells its user."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        in_flight = self.client.service.in_flight
        if interaction.type is discord.InteractionType.autocomplete:
            return in_flight.accepting  # no one waits on a list of choices
        if not in_flight.accepting:
            await tell(interaction, RESTARTING)
            return False
        in_flight.track(lambda text: tell(interaction, text))
        return True


class ShardedSourceBot(SourceBot, commands.AutoShardedBot):
    """The same bot on discord.py's AutoShardedBot: one process, several gateway connections."""


async def on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """Any failure inside a command: the user hears it privately, the log gets the traceback once."""
    await answer_fault(interaction, getattr(error, "original", error))


async def run_bot(config: BotConfig, retriever: Retriever, retrieval: RetrievalConfig | None, token: str,
                  **options) -> None:
    """The bot on Discord until it stops (a signal, or the connection given up): its Service held open around
    the client, both closed after. discord.LoginFailure when Discord refuses the token."""
    async with Service(config, retriever, retrieval) as service, create_bot(service, **options) as bot:
        await bot.start(token)


def create_bot(service: Service, **options) -> SourceBot:
    """A SourceBot over an open Service, sharded when its config says so (all shards, or `shard_ids` of
    `shard_count` across processes); `options` go to discord.py's client."""
    config = service.config
    if not (config.sharded or config.shard_ids):
        return SourceBot(service, **options)
    if config.shard_count:
        options.setdefault("shard_count", config.shard_count)
    if config.shard_ids:  # this process runs only these shards; other processes run the rest
        options.setdefault("shard_ids", list(config.shard_ids))
    return ShardedSourceBot(service, **options)
