"""The `python -m retrieval` command line (also installed as `sourcebot`): arguments in, one command's run out;
each group of commands lives in a module of its own, imported only when one of its commands is asked for."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from ..config import load_config
from ..errors import RetrievalError
from .common import EXIT_ERROR, Parser, SharedOptions
from .program import as_run, program

EXIT_INTERRUPTED = 130  # as a shell reports a program that SIGINT (Ctrl-C) ended

# Each module of commands and the commands it declares: `search` never imports the benchmarks.
GROUPS = {
    "indexing": ("build", "sources", "show"),
    "searching": ("search",),
    "evaluation": ("eval", "calibrate"),
    "benchmarks": ("soak", "bench", "bench-batch", "bench-stores", "bench-uploads", "bench-libraries"),
    "serving": ("serve",),
}

DESCRIPTION = """\
Answer questions from a fixed set of documents by quoting their paragraphs, with citations.
Nothing is generated: every result is a verbatim passage of a source.

Typical use:
  {program} search "How many North Korean refugees has NAUH resettled?"
  {program} build mydocs
  {program} search --file questions.txt > answers.jsonl
"""


class StderrHandler(logging.StreamHandler):
    """Each record as its bare message, one line, on whatever sys.stderr is when it is logged; a command it gives
    is written as this shell runs it."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    def format(self, record: logging.LogRecord) -> str:
        return as_run(super().format(record))

    @property
    def stream(self):  # looked up each time, so a replaced sys.stderr (tests, redirection) gets the lines
        return sys.stderr

    @stream.setter
    def stream(self, _) -> None:
        pass


def show_library_log() -> None:
    """Let the user see what the library logs (an index being built, sources gone, bench progress) on stderr."""
    library = logging.getLogger("retrieval")
    library.setLevel(logging.INFO)
    if not any(isinstance(handler, StderrHandler) for handler in library.handlers):
        library.addHandler(StderrHandler())


def main(argv: list[str] | None = None) -> int:
    show_library_log()
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser(command_in(argv)).parse_args(argv)
        config = load_config(args.config).retrieval
        return args.run(args, config)
    except RetrievalError as exc:
        print(as_run(f"error: {exc}"), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted; nothing was changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (say `head`) has gone; stop quietly instead of failing on flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def command_in(argv: list[str]) -> str | None:
    """The command named on the command line (its first word that is not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `command`, only its group's commands are declared (and their modules imported),
    unless it names none (a typo, or `--help`): then every group, so the message lists them all."""
    name = program()
    main_parser = Parser(prog=name, description=DESCRIPTION.format(program=name),
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    groups = [group for group, names in GROUPS.items() if command in names] or list(GROUPS)
    shared = SharedOptions()
    for group in groups:
        importlib.import_module(f"{__package__}.{group}").add_commands(commands, shared)
    return main_parser
