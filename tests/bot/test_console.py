"""Console mode prints the very replies the bot would send, as text, with no Discord and no token."""

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import bot.__main__ as bot_main
from bot.console import run_console
from retrieval import Retriever, load_corpus, loader
from retrieval.ingest.prepared import prepare
from retrieval.store.build import build_index

from ..conftest import PROJECT, SEEDS
from ..encoders import WordHashEncoder


@pytest.mark.slow
def test_console_prints_the_cited_passages_and_the_not_covered_line(retriever: Retriever, capsys):
    run_console(retriever, ["How many North Korean refugees has NAUH resettled?", "", "Who won the 2018 World Cup?"])
    out = capsys.readouterr().out
    # the citation as sent, escaped (Discord shows "\\[" as "[")
    assert '┌ \\[Robert Park, "Ji Seong-ho: Hero fostering unity and inspiring change", Korea Herald, ¶8\\]' in out
    assert "│ **To date, about 215 North Korean refugees" in out
    assert "The sources do not cover this question" in out


def test_console_runs_the_commands_too(fast_retriever: Retriever, capsys):
    run_console(fast_retriever, ["/sources", "/source park-hero", "/source nope"])
    out = capsys.readouterr().out
    assert "`park-hero`" in out and "**¶8** To date, about 215" in out
    assert "Unknown source id nope" in out


def test_console_source_opens_at_a_paragraph_as_on_discord(fast_retriever: Retriever, capsys):
    run_console(fast_retriever, ["/source freedom-collection-ji"])
    whole = capsys.readouterr().out
    last = fast_retriever.passages_of("freedom-collection-ji")[-1].paragraph
    run_console(fast_retriever, [f"/source freedom-collection-ji {last}", "/source freedom-collection-ji 9999"])
    out = capsys.readouterr().out
    assert f"**¶{last}**" in out and "**¶1**" not in out  # it starts at the page holding the paragraph
    assert "page 1 of" in whole and "page 1 of" not in out
    assert f"`freedom-collection-ji` has paragraphs 1 to {last}." in out


@pytest.mark.slow
def test_console_mode_needs_no_token(seeds_config, retriever, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[retrieval]\nsources = "{seeds_config.sources}"\nindex = "{seeds_config.index}"\n')
    result = subprocess.run([sys.executable, "-m", "bot", "--console", "--config", str(config)],
                            input="How many North Korean refugees has NAUH resettled?\n", capture_output=True,
                            text=True, cwd=PROJECT, timeout=120, env={"PATH": "/usr/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "about 215 North Korean refugees" in result.stdout


def test_a_line_that_is_not_utf8_gets_its_own_error(fast_retriever: Retriever, capsys):
    run_console(fast_retriever, ["caf\udce9 au lait?", "/source caf\udce9", "Who founded NAUH?"])
    out = capsys.readouterr().out
    assert out.count("not valid UTF-8 (byte 0xe9 at character") == 2
    assert "NAUH" in out.split("not valid UTF-8")[-1]


@pytest.mark.slow
def test_console_reads_past_bytes_that_are_not_utf8(seeds_config, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[retrieval]\nsources = "{seeds_config.sources}"\nindex = "{seeds_config.index}"\n')
    result = subprocess.run([sys.executable, "-m", "bot", "--console", "--config", str(config)],
                            input=b"caf\xe9?\nHow many North Korean refugees has NAUH resettled?\n",
                            capture_output=True, cwd=PROJECT, timeout=120,
                            env={"PATH": "/usr/bin", "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"})  # strict stdin
    assert result.returncode == 0, result.stderr.decode()
    assert b"not valid UTF-8" in result.stdout and b"about 215 North Korean refugees" in result.stdout


@pytest.mark.parametrize(("line", "says"), [
    ("/help", "Type a question, or /sources"),
    ("/source", "Usage: /source ID [PARAGRAPH]"),
    ("/foo bar", "Unknown command: /foo."),
    ("/Help", "Type a question, or /sources"),
])
def test_commands_are_never_searched_as_questions(fast_retriever: Retriever, capsys, line: str, says: str):
    run_console(fast_retriever, [line])
    out = capsys.readouterr().out
    assert out.startswith(says)
    assert "passage" not in out and "👍" not in out  # no answer, no vote buttons


def test_a_paragraph_that_is_not_a_number_is_refused_as_such(fast_retriever: Retriever, capsys):
    run_console(fast_retriever, ["/source park-hero abc"])
    assert capsys.readouterr().out.startswith("The paragraph must be a number, not abc: `park-hero` has paragraphs")


def test_source_at_a_paragraph_prints_its_page_with_the_paragraph_marked(fast_retriever: Retriever, capsys):
    run_console(fast_retriever, ["/source park-hero 2"])
    out = capsys.readouterr().out
    assert "│ ▶ **¶2** I’m writing today" in out and out.count("▶") == 1
    assert out.count("┌ ") == 1 and "page 1 of" in out  # the one page holding it, not every page


def test_piped_logs_carry_no_colour_codes(fast_retriever: Retriever, monkeypatch: pytest.MonkeyPatch):
    import discord

    from bot import __main__ as bot_main

    monkeypatch.setattr(discord.utils, "is_docker", lambda: True)  # as in a container, where discord.py colours
    monkeypatch.setattr(bot_main, "connect_retriever", lambda config: fast_retriever)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"/help\n"), encoding="utf-8"))
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        assert bot_main.main(["--console"]) == 0
        logging.getLogger("bot").warning("a line to the log")
    finally:
        for handler in set(root.handlers) - set(before):
            root.removeHandler(handler)
    logged = sys.stderr.getvalue()
    assert "a line to the log" in logged and "\033[" not in logged


def test_the_footer_the_bot_shows_works_typed_back_into_the_console(fast_retriever: Retriever, capsys):
    run_console(fast_retriever, ["How many North Korean refugees has NAUH resettled?"])
    footer = next(line for line in capsys.readouterr().out.splitlines() if "Full text: " in line)
    typed = footer.split("Full text: ")[1]
    assert typed.startswith("/source id:park-hero paragraph:")
    paragraph = int(typed.rsplit(":", 1)[1])
    for line in (typed, f"/source paragraph:{paragraph} id:park-hero", f"/source park-hero {paragraph}"):
        run_console(fast_retriever, [line])
        assert f"▶ **¶{paragraph}**" in capsys.readouterr().out, line
    run_console(fast_retriever, ["/source id:park-hero paragraph:", "/source id:park-hero id:park-hero"])
    assert capsys.readouterr().out.count("Usage: /source ID [PARAGRAPH]") == 2


def test_ctrl_c_at_the_prompt_ends_the_console_with_one_line(fast_retriever: Retriever, capsys,
                                                            monkeypatch: pytest.MonkeyPatch):
    class Interrupted(io.StringIO):
        def __next__(self) -> str:
            raise KeyboardInterrupt

        def reconfigure(self, **_) -> None:
            pass

    monkeypatch.setattr(sys, "stdin", Interrupted())
    monkeypatch.setattr(bot_main, "connect_retriever", lambda _: fast_retriever)
    # discord.py's handler on the root logger would outlive this test's captured stderr
    monkeypatch.setattr(bot_main, "setup_logging", lambda _: None)
    assert bot_main.main(["--console"]) == bot_main.EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err.strip() == "interrupted; nothing was changed"


def test_the_fix_a_start_up_error_names_works_in_the_shell_it_ran_from(tmp_path: Path, capsys,
                                                                      monkeypatch: pytest.MonkeyPatch):
    # the index holds another folder than the configured seeds: the error names the build that fixes it, written
    # with the interpreter running (`make console` runs .venv/bin/python with the virtualenv not active)
    monkeypatch.setattr(loader, "resolve_model", lambda *_, **__: WordHashEncoder.identity)
    (tmp_path / "mydocs").mkdir()
    (tmp_path / "mydocs" / "tide.txt").write_text("Tides\n\nThe tide turns twice a day.\n", encoding="utf-8")
    build_index(prepare(load_corpus(tmp_path / "mydocs")), WordHashEncoder(), tmp_path / "index", tmp_path / "mydocs",
                progress=False)
    (tmp_path / "config.toml").write_text(f'[retrieval]\nsources = "{SEEDS}"\n', encoding="utf-8")
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bot_main, "setup_logging", lambda _: None)
    assert bot_main.main(["--console", "--config", "config.toml"]) == 2
    assert f"`.venv/bin/python -m retrieval build {SEEDS}`" in capsys.readouterr().err
