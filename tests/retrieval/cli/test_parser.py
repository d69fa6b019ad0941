"""The command line is assembled from one module per group of commands, sharing parent parsers, and a command
imports only its own group: asking a question never loads the benchmarks."""

import argparse
import importlib
import subprocess
import sys

import pytest

from retrieval.cli.cli import GROUPS, parser
from retrieval.cli.common import SharedOptions

from ...conftest import PROJECT


def declared(group: str) -> set[str]:
    commands = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"retrieval.cli.{group}").add_commands(commands, SharedOptions())
    return set(commands.choices)


@pytest.mark.parametrize("group", list(GROUPS))
def test_each_group_declares_the_commands_the_command_line_expects_of_it(group: str):
    assert declared(group) == set(GROUPS[group])


def test_every_command_takes_config_and_index_from_one_parent():
    subparsers = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert all({"--config", "--index"} <= set(command._option_string_actions)
               for command in subparsers.choices.values())


@pytest.mark.parametrize(("command", "imports_evaluation"),
                         [("search", False), ("build", False), ("eval", True), ("bench", True)])
def test_a_command_imports_only_its_own_group(command: str, imports_evaluation: bool):
    check = (f"import sys; from retrieval.cli.cli import parser; parser({command!r}); "
             "print(any(name.startswith(('retrieval.evaluate', 'retrieval.benchmarks')) for name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert done.stdout.strip() == str(imports_evaluation), done.stderr


def test_no_data_set_is_looked_for_in_a_default_place(capsys):
    from retrieval.cli.cli import main

    for command in ("soak", "bench-batch", "bench-stores"):
        assert main([command]) == 1
        assert "the following arguments are required: --beir" in capsys.readouterr().err
    assert main(["bench"]) == 1
    assert "--scifact" in capsys.readouterr().err
