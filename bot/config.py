"""The bot's settings ([bot]) and the whole config file it reads: the library's [retrieval] section and its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from retrieval import RetrievalConfig, load_config
from retrieval.libraries import LIBRARY_WORKERS
from retrieval.settings import within


@dataclass(frozen=True)
class BotConfig:
    """How the Discord bot behaves; the token may also come from the DISCORD_TOKEN variable."""

    token: str = field(default="", repr=False)  # never shown in a repr, so logging a config cannot leak it
    question_channels: list[int] = field(default_factory=list)
    require_mention: bool = True
    answer_direct_messages: bool = True
    private_replies: bool = False
    reply_in_thread: bool = False
    cooldown_seconds: float = 5.0
    sync_commands: Literal["global", "guilds", "off"] = "global"
    sync_guilds: list[int] = field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    feedback: bool = True
    feedback_db: Path = Path("feedback.sqlite")
    # /add-source takes files up to this size; 10 MB is what Discord lets members of a server without boosts send
    max_upload_mb: float = 10.0
    # Answer from retrieval services (`python -m retrieval serve`) instead of an index of its own: one URL, or
    # several replicas tried in turn. Empty: the [retrieval] index on this machine.
    retrieval_url: list[str] = field(default_factory=list)
    # Each server's own library (/add-source in a server): its documents in a folder per server in here, its index
    # beside the shared index. Limits per server: a few handbooks and FAQs, not a second shared library. 20
    # documents of up to 10 MB (max_upload_mb) could be 200 MB; 50 MB in all is still hundreds of books' text.
    server_sources: Path = Path("server-sources")
    server_max_documents: int = 20
    server_max_mb: float = 50.0
    # Servers' indexes kept open at once (least recently used closed first); a library of one small document
    # takes about 7 KB open, and opens in about 3 ms (BENCHMARKS.md, "Per-server libraries")
    server_libraries_open: int = 64
    server_grace_days: float = 30.0  # a server's library is removed this long after the bot leaves the server
    # Threads adding, removing and rebuilding servers' documents, each server's work queued apart and run in turn
    # (retrieval/libraries.py: LIBRARY_WORKERS says why 2)
    server_library_workers: int = LIBRARY_WORKERS
    sharded: bool = False
    shard_count: int = 0
    shard_ids: list[int] = field(default_factory=list)  # this process's shards of shard_count; empty: all
    # On SIGTERM/SIGINT, questions being answered get this long to finish before their askers are told the bot is
    # restarting: a question takes well under a second, so 20 s covers a full queue; keep the process manager's
    # stop timeout above it (docs/bot.md, "Stopping the bot").
    stop_grace_seconds: float = 20.0

    def __post_init__(self) -> None:
        within("cooldown_seconds", self.cooldown_seconds, 0.0, 3600.0)
        within("shard_count", self.shard_count, 0, 100_000)
        if self.shard_ids:
            if not self.shard_count:
                raise ValueError("`shard_ids` needs `shard_count`, the number of shards of all processes together")
            for shard in self.shard_ids:
                within("shard_ids", shard, 0, self.shard_count - 1)
            if len(set(self.shard_ids)) != len(self.shard_ids):
                raise ValueError(f"`shard_ids` lists a shard twice: {self.shard_ids}")
        within("max_upload_mb", self.max_upload_mb, 0.01, 500.0)
        within("server_max_documents", self.server_max_documents, 1, 10_000)
        within("server_max_mb", self.server_max_mb, 0.01, 100_000.0)
        within("server_libraries_open", self.server_libraries_open, 1, 100_000)
        within("server_grace_days", self.server_grace_days, 0.0, 3650.0)
        within("server_library_workers", self.server_library_workers, 1, 64)
        within("stop_grace_seconds", self.stop_grace_seconds, 0.0, 600.0)
        for url in self.retrieval_url:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"`retrieval_url` {url!r} must start with http:// or https://")


@dataclass(frozen=True)
class FileConfig:
    """Everything `python -m bot --config FILE` reads: [retrieval] for the library, [bot] for the bot."""

    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    bot: BotConfig = field(default_factory=BotConfig)
    path: Path | None = None


def load_bot_config(path: Path | str | None) -> FileConfig:
    """The whole config file (defaults when None); the bot owns it, so any other section is an error naming it."""
    return load_config(path, FileConfig, others=())
