"""The project's folders as its imports draw them: the bot and the library never depend on the benchmarks or the
evaluation, documents become passages in ingest/ without reaching into the stages after it (nor the store back
into ingest), and each test module takes what it shares from conftest.py or tests/support, never from another test
module."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from .conftest import PROJECT

MEASURING = ("retrieval.evaluate", "retrieval.benchmarks")
AFTER_INGEST = ("retrieval.encode", "retrieval.store", "retrieval.search", "retrieval.cli", "retrieval.service",
                "retrieval.questions", *MEASURING)


def module_of(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved."""
    package = module_of(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def reaching(folder: str, forbidden: tuple[str, ...]) -> dict[str, set[str]]:
    return {module_of(path): bad for path in sorted(PROJECT.glob(f"{folder}/**/*.py"))
            if (bad := {m for m in imported(path) if m.startswith(forbidden)})}


@pytest.mark.parametrize("folder", ["bot", "retrieval/ingest", "retrieval/encode", "retrieval/store",
                                    "retrieval/search",
                                    "retrieval/service", "retrieval/questions"])
def test_the_bot_and_the_library_never_import_the_benchmarks_or_the_evaluation(folder: str):
    assert reaching(folder, MEASURING) == {}


def floor(module: str) -> str:
    """The unit the structure is drawn in: a folder of retrieval/ (ingest, store, ...), bot/cogs, or a module."""
    parts = module.split(".")
    if (parts[0] == "retrieval" and len(parts) > 2) or parts[:2] == ["bot", "cogs"]:
        return ".".join(parts[:2])
    return module


def test_no_folder_or_module_imports_one_that_imports_it_back():
    """Lazy and type-only imports included: a circle drawn from the imports is one whichever way it is written."""
    paths = [*PROJECT.glob("retrieval/**/*.py"), *PROJECT.glob("bot/**/*.py")]
    ours = {module_of(path) for path in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        here = floor(module_of(path))
        graph.setdefault(here, set()).update(floor(m) for m in imported(path) if m in ours and floor(m) != here)
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        pytest.fail(f"import circle: {' -> '.join(error.args[1])}")


def test_ingest_turns_documents_into_passages_without_the_stages_after_it():
    assert reaching("retrieval/ingest", AFTER_INGEST) == {}


def test_the_store_takes_prepared_passages_and_never_reads_documents():
    """Ingest prepares what an index holds once (ingest/prepared.py); the store is handed that record and calls
    nothing of ingest's, not even for a type."""
    assert reaching("retrieval/store", ("retrieval.ingest",)) == {}


def test_no_test_module_imports_another():
    found = {module_of(path): {m for m in imported(path) if m.split(".")[-1].startswith("test_")}
             for path in sorted(PROJECT.glob("tests/**/test_*.py"))}
    assert {module: names for module, names in found.items() if names} == {}


def test_every_module_logs_through_one_logger_named_after_it():
    found = {}
    for path in sorted([*PROJECT.glob("retrieval/**/*.py"), *PROJECT.glob("bot/**/*.py")]):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and "getLogger" in ast.unparse(node.value):
                found[module_of(path)] = ast.unparse(node)
    assert found and set(found.values()) == {"LOG = logging.getLogger(__name__)"}
