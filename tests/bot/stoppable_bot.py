"""A bot process for the stop tests: the seeds with the fast tier's encoder, each search slowed down, connected to
a fake Discord at the URL given. `python -m tests.bot.stoppable_bot URL TOKEN FEEDBACK_DB GRACE SEARCH_SECONDS`."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import discord
import discord.gateway
import discord.http
import yarl

from bot.app import run_bot
from bot.config import BotConfig
from retrieval import RetrievalConfig, open_retriever
from tests.conftest import SEEDS
from tests.encoders import WordHashEncoder


def main(base: str, token: str, feedback_db: str, grace: str, search_seconds: str) -> int:
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws") + "/gateway")
    index = Path(tempfile.mkdtemp(prefix="stoppable-")) / "index"
    retriever = open_retriever(RetrievalConfig(sources=SEEDS, index=index), progress=False, encoder=WordHashEncoder())
    answer = retriever.answer
    # the first answer loads the language check's model: warmed here, a loaded machine's first search still fits
    # within the grace period, which is what the tests measure
    answer("How many North Korean refugees has NAUH resettled?")

    def slow_answer(*args, **kwargs):
        time.sleep(float(search_seconds))
        return answer(*args, **kwargs)

    retriever.answer = slow_answer
    config = BotConfig(cooldown_seconds=0.0, feedback_db=Path(feedback_db), stop_grace_seconds=float(grace))
    # returns once the bot has stopped; the signal must not kill the process
    asyncio.run(run_bot(config, retriever, None, token, guild_ready_timeout=0.05))
    print("stopped cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
