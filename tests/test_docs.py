"""The README and the help texts say what the code does: every command and option named exists, every file named
is there, and the figures the help texts and the README both give agree."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import TOKEN_HELP
from retrieval.cli.benchmarks import BENCH_MINUTES, BENCH_MINUTES_SMALL
from retrieval.cli.cli import main, parser
from retrieval.config import RetrievalConfig

from .conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")
BENCHMARKS = (PROJECT / "BENCHMARKS.md").read_text(encoding="utf-8")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-k)\b")
UNIT = PROJECT / "deploy" / "sourcebot.service"


def section(title: str) -> str:
    """The README's text under `## title`, up to the next section."""
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def commands() -> dict[str, argparse.ArgumentParser]:
    subparsers = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def table_rows() -> list[tuple[str, str]]:
    """(command, whole row) for each row of the README's table of `python -m retrieval` commands."""
    rows = [line for line in section("The command line").splitlines() if line.startswith("| `")]
    return [(row.split("`")[1].split()[0], row) for row in rows]


def test_the_readme_table_lists_every_command_and_only_those():
    assert {name for name, _ in table_rows()} == set(commands())


def test_every_option_the_readme_table_names_exists():
    wrong = [(name, option) for name, row in table_rows() for option in OPTION.findall(row)
             if option not in commands()[name]._option_string_actions]
    assert wrong == []


def help_texts() -> list[str]:
    texts = [parser().description or ""]
    for command in commands().values():
        texts += [command.description or "", *(action.help or "" for action in command._actions)]
    return texts


def test_every_file_a_help_text_names_is_in_the_project():
    named = {path for text in help_texts() for path in re.findall(r"\b(?:retrieval|bot|seeds)/[\w/]+\.\w+", text)}
    assert named and [path for path in named if not (PROJECT / path).exists()] == []


def test_every_project_file_the_readme_names_is_there():
    named = set(re.findall(r"`((?:retrieval|bot|tests|seeds|deploy)/[\w./-]*)`", README))
    assert named and sorted(path for path in named if not (PROJECT / path).exists()) == []


def test_bench_takes_as_long_in_its_help_as_in_the_readme_and_benchmarks():
    (bench,) = [row for name, row in table_rows() if name == "bench"]
    assert f"about {BENCH_MINUTES} minutes" in bench
    assert f"about {BENCH_MINUTES} minutes with the 1M-passage section" in BENCHMARKS
    assert f"without it, about {BENCH_MINUTES_SMALL} minutes" in BENCHMARKS


def test_the_bots_token_message_points_to_a_readme_passage_that_exists():
    place = TOKEN_HELP.split('"')[1]
    assert f"**{place}:**" in README


def test_the_readme_names_the_formats_the_build_reads():
    sources_help = next(a.help for a in commands()["build"]._actions if a.dest == "sources")
    for suffix in (".txt", ".md", ".pdf", ".html", ".docx"):
        assert suffix in sources_help and f"`{suffix}`" in section("Your own documents")


@pytest.mark.slow
def test_make_ask_prints_what_the_readme_shows(seeds_config: RetrievalConfig, retriever, tmp_path: Path, capsys):
    question = re.search(r'^Q \?= (.*)$', (PROJECT / "Makefile").read_text(), re.M)[1]
    config = tmp_path / "config.toml"
    config.write_text(f'[retrieval]\nsources = "{seeds_config.sources}"\nindex = "{seeds_config.index}"\n')
    assert main(["search", "--config", str(config), question]) == 0
    printed = capsys.readouterr().out.replace(f" --config {config}", "")
    shown = README.split("`make ask` prints")[1].split("```\n", 2)[1]
    # what make echoes and what a first run says on stderr while it builds the index are not the answer
    answer = [line for line in shown.splitlines() if not line.startswith((".venv/", "no index", "Embedding"))]

    def untimed(lines: list[str]) -> list[str]:
        return [re.sub(r"\d+ ms", "N ms", line) for line in lines]
    assert untimed(printed.splitlines()) == untimed(answer)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (apt-get "
                    "install systemd), so deploy/sourcebot.service is not checked")
def test_the_systemd_unit_is_valid(tmp_path: Path):
    # verify exits 0 even over an unknown key, but names the file and line on stderr: any such line fails. It also
    # checks that ExecStart's program can run: the unit is pointed at this checkout and this Python.
    unit = tmp_path / "sourcebot.service"
    text = UNIT.read_text(encoding="utf-8").replace("/opt/sourcebot/.venv/bin/python", sys.executable)
    unit.write_text(text.replace("/opt/sourcebot", str(PROJECT)), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in result.stderr.splitlines() if unit.name in line]
    assert result.returncode == 0 and complaints == [], result.stderr


def test_the_systemd_unit_gives_the_bot_time_to_finish_and_keeps_the_token_out():
    unit = UNIT.read_text(encoding="utf-8")
    # the bot finishes the answers in flight for up to 20 s after SIGTERM; systemd must not kill it before
    assert re.search(r"^KillSignal=SIGTERM$", unit, re.M)
    assert int(re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M)[1]) > 20
    # the token is read from a file only root can read, never written in the unit
    assert re.search(r"^EnvironmentFile=/etc/", unit, re.M)
    assert "DISCORD_TOKEN=" not in unit.replace("`DISCORD_TOKEN=...`", "")
