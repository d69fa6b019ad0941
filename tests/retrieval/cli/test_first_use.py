"""The command line as the README walks a newcomer through it: build a folder of one's own, then read it with no
options; a mistyped --index; empty input; the footer's command."""

import io
import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from retrieval import loader
from retrieval.cli.cli import main

from ...conftest import SEEDS

TIDE = "Tides\n\nThe tide turns twice a day, pulled by the moon.\n\nSpring tides come at the new and full moon.\n"


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word_hash_model) -> Path:
    """A checkout's working folder: the seeds, and a folder of the user's own documents beside them."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "mydocs").mkdir()
    (tmp_path / "mydocs" / "tide.txt").write_text(TIDE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def ids_listed(capsys) -> list[str]:
    return [row["id"] for row in json.loads(capsys.readouterr().out)]


def test_an_index_built_from_a_folder_is_read_with_no_options(checkout: Path, capsys):
    assert main(["build", "--quiet", "mydocs"]) == 0
    capsys.readouterr()
    assert main(["sources", "--json"]) == 0
    assert ids_listed(capsys) == ["tide"]
    assert main(["search", "--json", "When does the tide turn?"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["source_id"] == "tide"


def test_rebuild_rebuilds_from_the_folder_the_index_was_built_from(checkout: Path, capsys):
    assert main(["build", "--quiet", "mydocs"]) == 0
    (checkout / "mydocs" / "moon.txt").write_text("The Moon\n\nThe moon pulls the sea.\n", encoding="utf-8")
    assert main(["sources"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: the sources in {checkout / 'mydocs'} changed since the index at index was built")
    assert error.endswith(f"rebuild with `python -m retrieval build {checkout / 'mydocs'}`, or `search --rebuild`\n")
    assert main(["search", "--rebuild", "--json", "What pulls the sea?"]) == 0
    assert "building the index now" in capsys.readouterr().err
    assert main(["search", "--rebuild", "--json", "What pulls the sea?"]) == 0  # fresh, and rebuilt as asked
    assert f"rebuilding the index at index from {checkout / 'mydocs'}" in capsys.readouterr().err
    assert main(["sources", "--json"]) == 0
    assert ids_listed(capsys) == ["moon", "tide"]


def test_sources_named_are_checked_and_the_message_names_both_folders(checkout: Path, capsys):
    assert main(["build", "--quiet", "mydocs"]) == 0
    capsys.readouterr()
    assert main(["search", "--sources", "seeds", "When does the tide turn?"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: the index at index was built from {checkout / 'mydocs'}, not from seeds; "
                            "rebuild it from seeds with `python -m retrieval build seeds`")


def test_a_mistyped_index_folder_is_refused_not_built(checkout: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    assert main(["build", "--quiet", "mydocs", "--index", "tide-index"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(loader, "load_encoder", lambda *_, **__: pytest.fail("nothing may be embedded"))
    assert main(["search", "--index", "tide-idnex", "When does the tide turn?"]) == 1
    assert capsys.readouterr().err == ("error: no index at tide-idnex; build one there first with `python -m "
                                       "retrieval build SOURCES --index tide-idnex`, or leave --index out for the "
                                       "configured index (index)\n")
    assert not (checkout / "tide-idnex").exists()
    assert main(["search", "--index", "seeds", "When does the tide turn?"]) == 1
    assert "seeds holds other files" in capsys.readouterr().err
    assert sorted(p.name for p in (checkout / "seeds").iterdir()) == sorted(p.name for p in SEEDS.iterdir()
                                                                             if p.name != "__pycache__")


def test_building_into_a_folder_of_other_files_is_refused_before_reading(checkout: Path, capsys,
                                                                         monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(loader, "load_corpus", lambda *_, **__: pytest.fail("nothing may be read or embedded"))
    assert main(["build", "--quiet", "mydocs", "--index", "seeds"]) == 1
    assert capsys.readouterr().err.startswith("error: seeds holds other files")


def test_eval_asks_the_gold_questions_beside_the_sources_the_index_holds(checkout: Path, capsys):
    (checkout / "mydocs" / "gold.toml").write_text('[[question]]\nq = "When does the tide turn?"\n'
                                                   'expect = ["The tide turns twice a day"]\n', encoding="utf-8")
    assert main(["build", "--quiet", "mydocs"]) == 0
    capsys.readouterr()
    assert main(["eval", "--json", "--modes", "lexical"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["questions"] == 1


def test_only_the_configured_index_is_built_on_first_use_and_it_says_so(checkout: Path, capsys):
    assert main(["search", "--json", "Who founded NAUH?"]) == 0
    assert "no index at index: building the index now" in capsys.readouterr().err


def test_empty_input_is_an_error_not_a_silent_success(checkout: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["search"]) == 1
    assert capsys.readouterr().err.startswith("error: no questions to answer: the input is empty")
    (checkout / "blank.txt").write_text("\n\n", encoding="utf-8")
    assert main(["search", "--file", "blank.txt"]) == 1
    assert "no questions to answer" in capsys.readouterr().err
    assert not (checkout / "index").exists()  # refused before anything was built


def test_an_empty_document_is_skipped_with_a_warning(checkout: Path, capsys):
    (checkout / "mydocs" / "empty.txt").write_text("", encoding="utf-8")
    (checkout / "mydocs" / "title-only.md").write_text("# Just a title\n", encoding="utf-8")
    assert main(["build", "--quiet", "mydocs"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("indexed 2 passages from 1 sources")
    assert "skipped 2 files: empty.txt (has no paragraph to answer from" in captured.out
    assert [line.split(" (")[0] for line in captured.err.splitlines()] == ["skipped empty.txt",
                                                                          "skipped title-only.md"]


def test_the_footer_names_a_show_command_that_works(checkout: Path, capsys):
    assert main(["build", "--quiet", "mydocs", "--index", "tide-index"]) == 0
    capsys.readouterr()
    assert main(["search", "--index", "tide-index", "When does the tide turn?"]) == 0
    footer = capsys.readouterr().out.splitlines()[-1]
    command = footer.split("Read the first in its source: python -m retrieval ")[1]
    assert command.startswith("show --index tide-index tide --paragraph ")
    assert main(command.split()) == 0
    assert "The tide turns twice a day" in capsys.readouterr().out


def test_answers_from_another_folder_say_so_and_how_to_go_back(checkout: Path, capsys):
    assert main(["search", "--json", "Who founded NAUH?"]) == 0  # the configured seeds, built on first use
    assert "note:" not in capsys.readouterr().err
    assert main(["build", "--quiet", "mydocs"]) == 0
    assert capsys.readouterr().err == ("note: the index at index holds seeds; this build replaces it with mydocs "
                                       "(`python -m retrieval build seeds` goes back)\n")
    assert main(["search", "When does the tide turn?"]) == 0
    assert capsys.readouterr().err == ("note: answering from mydocs, which the index at index was built from, not "
                                       "from the configured sources seeds; `python -m retrieval build seeds` goes "
                                       "back to them\n")
    assert main(["build", "--quiet", "seeds"]) == 0  # going back, as the note says
    assert "note:" in capsys.readouterr().err
    assert main(["sources"]) == 0
    assert "note:" not in capsys.readouterr().err
    assert main(["build", "--quiet"]) == 0  # the same folder again: nothing to warn about
    assert "note:" not in capsys.readouterr().err


def test_the_footer_works_pasted_into_a_shell_without_the_virtualenv(checkout: Path, capsys,
                                                                     monkeypatch: pytest.MonkeyPatch):
    # as after `make ask`: the venv's python was run by its path, and `python` in this shell is another one
    monkeypatch.setenv("PATH", str(checkout / "elsewhere"))
    venv = checkout / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    assert main(["search", "When does the tide turn?"]) == 0
    footer = capsys.readouterr().out.splitlines()[-1]
    command = shlex.split(footer.split("Read the first in its source: ")[1])
    assert command[:3] == [".venv/bin/python", "-m", "retrieval"]
    assert (checkout / command[0]).samefile(sys.executable)
    assert command[3] == "show" and main(command[3:]) == 0
    assert capsys.readouterr().out.startswith(f"{command[4]}\n")
