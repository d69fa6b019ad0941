"""Start the bot: `python -m bot --config config.toml`, or `python -m bot --console` with no Discord at all."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path

import discord

from retrieval import ConfigError, RetrievalError, Retriever, open_retriever
from retrieval.cli.program import as_run
from retrieval.service.client import TOKEN_VARIABLE as SERVICE_TOKEN_VARIABLE
from retrieval.service.client import RemoteRetriever

from .app import run_bot
from .config import BotConfig, FileConfig, load_bot_config
from .console import run_console
from .question_log import QuestionLog

DEFAULT_CONFIG = Path("config.toml")
TOKEN_VARIABLE = "DISCORD_TOKEN"
# Discord tokens are base64url parts joined by dots; printable ASCII without spaces covers them with room to
# spare, and refuses what breaks the HTTP header the token goes in (a line break, a pasted second line).
TOKEN_SHAPE = re.compile(r"[!-~]+")
TOKEN_HELP = 'docs/bot.md, "Run it for real"'  # where the docs say how to get a token (a test checks it is there)
PLAIN_LOG_FORMAT = "[{asctime}] [{levelname:<8}] {name}: {message}"  # discord.py's own, without colour


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Discord bot that answers questions by quoting the sources, with citations. "
        f"The token comes from ${TOKEN_VARIABLE} or the config file's [bot] token.",
    )
    parser.add_argument("--config", type=Path, help=f"TOML config (default: {DEFAULT_CONFIG} if it exists, "
                        "else built-in defaults); see config.example.toml")
    parser.add_argument("--console", action="store_true",
                        help="no Discord: read questions from the terminal and print the replies the bot would send")
    parser.add_argument("--report", type=Path, metavar="DB", help="no Discord: print what readers' votes kept in "
                        "this feedback database (`feedback_db`) say, and the most down-voted answers")
    parser.add_argument("--json", action="store_true", help="with --report: print the report as JSON")
    return parser.parse_args(argv)


def resolve_token(config: BotConfig, config_path: Path | None, environ: dict[str, str]) -> str:
    """The bot token: the environment variable wins over the config file. Errors never show the token."""
    from_environment = environ.get(TOKEN_VARIABLE, "").strip()
    token = from_environment or config.token.strip()
    in_config = f"[bot] token in {config_path}" if config_path else "a config file's [bot] token"
    if not token:
        raise ConfigError(f"no bot token: set {TOKEN_VARIABLE} or {in_config} (see {TOKEN_HELP})")
    if not TOKEN_SHAPE.fullmatch(token):
        where = TOKEN_VARIABLE if from_environment else in_config
        raise ConfigError(f"the bot token ({where}) holds a line break, a space or another character no Discord "
                          "token has; copy the token again (it is not shown here)")
    return token


def setup_logging(level: str) -> None:
    """Log lines on stderr, in colour only on a terminal: discord.py's own check colours inside any Docker
    container too, which writes raw escape codes into piped output and log files."""
    plain = {} if sys.stderr.isatty() else {"formatter": logging.Formatter(PLAIN_LOG_FORMAT, "%Y-%m-%d %H:%M:%S",
                                                                          style="{")}
    discord.utils.setup_logging(level=getattr(logging, level), **plain)


def print_report(database: Path, as_json: bool) -> None:
    """What the votes kept in `database` say; RetrievalError when it is missing or cannot be read."""
    if not database.is_file():
        raise RetrievalError(f"feedback database {database} not found (the bot writes it: `feedback_db`)")
    report = QuestionLog(database).report()
    print(json.dumps(asdict(report), ensure_ascii=False, indent=1) if as_json else report.table())


def connect_retriever(config: FileConfig) -> Retriever | RemoteRetriever:
    """The retrieval services named by `retrieval_url` (checked now, so a wrong URL stops start-up), else the
    local index, its model and index loaded once before connecting."""
    if not config.bot.retrieval_url:  # the index must hold the sources folder that /add-source adds to
        return open_retriever(config.retrieval, sources=config.retrieval.sources)
    token = os.environ.get(SERVICE_TOKEN_VARIABLE, "").strip() or None  # the services' bearer token, when they need one
    remote = RemoteRetriever(config.bot.retrieval_url, config.retrieval.search, token=token)
    remote.sources  # noqa: B018 - fails with ServiceUnavailable when no service answers
    return remote


EXIT_INTERRUPTED = 130  # as a shell reports a program that SIGINT (Ctrl-C) ended


def main(argv: list[str] | None = None) -> int:
    """Run what the command line asks for; Ctrl-C before the bot is connected (loading the index, at the console's
    prompt) ends it with one line, not a traceback: the running bot handles SIGINT itself (stop_on_signal)."""
    try:
        return run(parse_args(argv))
    except KeyboardInterrupt:
        print("\ninterrupted; nothing was changed", file=sys.stderr)
        return EXIT_INTERRUPTED


def run(args: argparse.Namespace) -> int:
    if args.report:
        try:
            print_report(args.report, args.json)
        except RetrievalError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0
    config_path = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
    try:
        config = load_bot_config(config_path)
        token = None if args.console else resolve_token(config.bot, config_path, dict(os.environ))
        setup_logging(config.bot.log_level)
        retriever = connect_retriever(config)
    except RetrievalError as error:  # the fix it names (`python -m retrieval build seeds`) as this shell runs it
        print(as_run(f"error: {error}"), file=sys.stderr)
        return 2
    if args.console:
        run_console(retriever)
        return 0
    # a bot answering from services has no index of its own to rebuild or change
    retrieval = None if config.bot.retrieval_url else config.retrieval
    try:
        asyncio.run(run_bot(config.bot, retriever, retrieval, token))
    except discord.LoginFailure:
        print(f"error: Discord refused the token; check {TOKEN_VARIABLE} or [bot] token", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the bot took over SIGINT (it stops gently after that)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
