"""The README, the docs and the help texts say what the code does: every command, option, setting, folder and file
named exists, every link leads somewhere, the examples print what they say, and the docs build as a site."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from bot.__main__ import TOKEN_HELP
from bot.console import run_console
from retrieval.cli.benchmarks import BENCH_MINUTES, BENCH_MINUTES_SMALL
from retrieval.cli.cli import main, parser
from retrieval.config import RetrievalConfig

from .conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")
BENCHMARKS = (PROJECT / "BENCHMARKS.md").read_text(encoding="utf-8")
DOCS = {path: path.read_text(encoding="utf-8") for path in sorted((PROJECT / "docs").glob("*.md"))}
PAGES = {PROJECT / "README.md": README, **DOCS}
README_MOST_LINES = 200  # what a newcomer reads first fits on a screen or three; the rest is in docs/
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-k)\b")
UNIT = PROJECT / "deploy" / "sourcebot.service"


def page(name: str) -> str:
    return DOCS[PROJECT / "docs" / name]


def section(text: str, title: str) -> str:
    """A page's text under `## title`, up to the next section."""
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def commands() -> dict[str, argparse.ArgumentParser]:
    subparsers = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def table_rows() -> list[tuple[str, str]]:
    """(command, whole row) for each row of the docs' table of `python -m retrieval` commands."""
    rows = [line for line in page("cli.md").split("\n## ", 1)[0].splitlines() if line.startswith("| `")]
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


def test_every_project_file_the_readme_and_the_docs_name_is_there():
    named = {path for text in PAGES.values()
             for path in re.findall(r"`((?:retrieval|bot|tests|seeds|deploy|docs)/[\w./-]*)`", text)}
    assert named and sorted(path for path in named if not (PROJECT / path).exists()) == []


def test_bench_takes_as_long_in_its_help_as_in_the_readme_and_benchmarks():
    (bench,) = [row for name, row in table_rows() if name == "bench"]
    assert f"about {BENCH_MINUTES} minutes" in bench
    assert f"about {BENCH_MINUTES} minutes with the 1M-passage section" in BENCHMARKS
    assert f"without it, about {BENCH_MINUTES_SMALL} minutes" in BENCHMARKS


def test_the_bots_token_message_points_to_a_passage_that_exists():
    file, place = TOKEN_HELP.split(", ")
    assert f"\n## {place.strip(chr(34))}\n" in (PROJECT / file).read_text(encoding="utf-8")


def test_the_readme_names_the_formats_the_build_reads():
    sources_help = next(a.help for a in commands()["build"]._actions if a.dest == "sources")
    for suffix in (".txt", ".md", ".pdf", ".html", ".docx"):
        assert suffix in sources_help and f"`{suffix}`" in section(page("documents.md"), "What a folder may hold")
        assert f"`{suffix}`" in section(README, "Your own documents")


@pytest.mark.slow
def test_make_ask_prints_what_the_readme_shows(seeds_config: RetrievalConfig, retriever, tmp_path: Path, capsys,
                                               monkeypatch: pytest.MonkeyPatch):
    # as `make ask` runs it: the checkout's virtualenv by its path, not active in the shell
    monkeypatch.chdir(PROJECT)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
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


def test_the_readme_fits_on_a_few_screens():
    assert len(README.splitlines()) < README_MOST_LINES


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """The id mkdocs and GitHub give a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {anchor(title) for title in re.findall(r"^#+ (.+)$", text, re.M)}


def test_every_relative_link_of_the_readme_and_the_docs_leads_somewhere():
    broken = []
    for path, text in PAGES.items():
        for target in LINK.findall(re.sub(r"```.*?```", "", text, flags=re.S)):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            file, _, fragment = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.exists() or (fragment and fragment not in anchors(linked.read_text(encoding="utf-8"))):
                broken.append(f"{path.relative_to(PROJECT)}: {target}")
    assert broken == []


def test_the_docs_build_as_a_site_with_no_warning(tmp_path: Path):
    mkdocs = Path(sys.executable).parent / "mkdocs"
    result = subprocess.run([str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=PROJECT,
                            capture_output=True, text=True, timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "documents" / "index.html").is_file()


def test_the_sites_pages_are_the_docs_pages():
    listed = set(re.findall(r"^  - [^:]+: (\S+\.md)$", (PROJECT / "mkdocs.yml").read_text(encoding="utf-8"), re.M))
    assert listed == {path.name for path in DOCS}


def layout() -> str:
    return section(README, "Layout")


def test_the_readme_layout_names_every_folder():
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    folders = {str(Path(file).parent) for file in tracked.splitlines()} - {"."}
    # each top-level folder, and each package's own folders (tests mirror the packages, seeds hold documents)
    wanted = {folder for folder in folders if folder.count("/") == 0 or (
        folder.split("/")[0] in ("retrieval", "bot") and folder.count("/") == 1)}
    missing = [folder for folder in sorted(wanted) if f"{folder.split('/')[-1]}/" not in layout()]
    assert "retrieval/service" in wanted and missing == []


def test_the_configuration_page_names_every_setting():
    from bot.config import FileConfig

    def keys(cls: type, table: str) -> dict[str, str]:
        found = {}
        for field in dataclasses.fields(cls):
            hint = typing.get_type_hints(cls)[field.name]
            if dataclasses.is_dataclass(hint):
                found |= keys(hint, f"{table}.{field.name}")
            elif field.name != "path":
                found[field.name] = table
        return found

    tables = {name: cls for name, cls in typing.get_type_hints(FileConfig).items() if dataclasses.is_dataclass(cls)}
    settings = {key: table for name, cls in tables.items() for key, table in keys(cls, name).items()}
    sections = dict(re.findall(r"^## `\[(.+?)\]`.*\n((?:(?!## ).*\n)*)", page("configuration.md"), re.M))
    missing = [f"[{table}] {key}" for key, table in settings.items() if f"`{key}`" not in sections.get(table, "")]
    assert missing == []


def test_the_console_prints_the_sources_as_the_readme_shows(fast_retriever, capsys):
    shown = section(README, "On Discord").split("> /sources\n", 1)[1].split("```", 1)[0]
    run_console(fast_retriever, ["/sources"])
    assert capsys.readouterr().out.strip() == shown.strip()


@pytest.mark.slow
def test_the_library_example_prints_what_the_readme_says(seeds_config: RetrievalConfig, retriever, capsys):
    code = section(README, "As a library").split("```python\n", 1)[1].split("```", 1)[0]
    said = re.findall(r"# (.+)$", code.splitlines()[-1])[0]
    # the example as written, on the session's index of the seeds (building another would take the model's time)
    exec(code.replace('"seeds"', repr(str(seeds_config.sources))).replace('"index"', repr(str(seeds_config.index))),
         {})
    assert capsys.readouterr().out.splitlines()[-1] == said


def test_the_readme_leads_to_every_page_of_the_docs():
    linked = {Path(target.split("#")[0]).name for target in LINK.findall(section(README, "Where to read on"))}
    assert {path.name for path in DOCS} - {"index.md"} <= linked
