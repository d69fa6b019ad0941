"""How the user runs this command line again from the shell they ran it from: the installed script or the
interpreter actually running, named as that shell finds it; every command the CLI prints starts with it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

SCRIPT = "sourcebot"  # the console script pyproject.toml's [project.scripts] installs
# How library messages name the command line (the CLI prints the real one): the words alone, not already part of
# an interpreter's path.
MODULE = re.compile(r"(?<![\w/.~-])python -m retrieval\b")


def program(argv0: str | None = None, executable: str | None = None) -> str:
    """`sourcebot` (or its path) when run as the installed script, else this interpreter with `-m retrieval`:
    `python` only where the shell's PATH finds this very interpreter (its virtualenv active), else its path,
    relative to the working folder when inside it (`.venv/bin/python`, as `make ask` runs it)."""
    script = Path(argv0 if argv0 is not None else sys.argv[0])
    if script.name == SCRIPT:
        return as_found(script)
    return f"{as_found(Path(executable or sys.executable))} -m retrieval"


def as_found(path: Path) -> str:
    """The program's bare name when PATH finds this very file under it, else its shortest usable path."""
    on_path = shutil.which(path.name)
    if on_path and Path(on_path).absolute() == path.absolute():
        return path.name
    return shortened(path)


def shortened(path: Path) -> str:
    """The path relative to the working folder when it lies inside it, else absolute."""
    absolute = path.absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return shlex.quote(str(absolute))
    return shlex.quote(str(relative) if relative.parent != Path(".") else f".{os.sep}{relative}")


def as_run(text: str) -> str:
    """A message with each `python -m retrieval` command it gives written as this run's program."""
    return MODULE.sub(lambda _: program(), text)
