"""The commands the command line prints name the program as the user's shell finds it: `python` only when it is
this very interpreter (the virtualenv active), else its path; the installed script by its name."""

import os
import sys
from pathlib import Path

import pytest

from retrieval.cli import cli
from retrieval.cli.program import SCRIPT, as_run, program


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with a virtualenv's bin folder, the working folder, with nothing of it on PATH."""
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    for name in ("python", SCRIPT):
        (venv / name).symlink_to(sys.executable)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    return venv


def test_an_inactive_virtualenvs_python_is_named_by_its_path(shell: Path):
    assert program("-c", str(shell / "python")) == ".venv/bin/python -m retrieval"


def test_an_active_virtualenvs_python_is_plain_python(shell: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(shell))
    assert program("-c", str(shell / "python")) == "python -m retrieval"


def test_a_python_outside_the_working_folder_is_named_in_full(shell: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert program("-c", str(shell / "python")) == f"{shell / 'python'} -m retrieval"


def test_the_installed_script_is_named_as_the_shell_finds_it(shell: Path, monkeypatch: pytest.MonkeyPatch):
    assert program(str(shell / SCRIPT)) == f".venv/bin/{SCRIPT}"
    monkeypatch.setenv("PATH", os.pathsep.join([str(shell), "/usr/bin"]))
    assert program(str(shell / SCRIPT)) == SCRIPT


def test_the_script_pyproject_installs_is_the_command_line():
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())
    module, function = pyproject["project"]["scripts"][SCRIPT].split(":")
    assert module == cli.__name__ and getattr(cli, function) is cli.main


def test_library_messages_name_the_running_program(shell: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "executable", str(shell / "python"))
    monkeypatch.setattr(sys, "argv", ["-m"])
    assert as_run("rebuild with `python -m retrieval build seeds`") == \
        "rebuild with `.venv/bin/python -m retrieval build seeds`"
    assert as_run("see `.venv/bin/python -m retrieval --help`") == "see `.venv/bin/python -m retrieval --help`"
