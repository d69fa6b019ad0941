"""Shared fixtures in two tiers. Fast: the seeds indexed with a word-hashing stand-in for the model, built in a
fraction of a second, for tests of logic. Slow (`@pytest.mark.slow`): the real model and one real index built
once per session, for tests of what the model finds. `make test-fast` runs only the first."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, Retriever, open_retriever
from retrieval.search.language import LanguageCheck, Unreadable

from .encoders import WordHashEncoder

PROJECT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT / "seeds"
GOLD = SEEDS / "gold.toml"  # the seeds' gold questions, shipped beside them (the corpus loader skips .toml files)
SEED_PASSAGES = 44  # answerable blocks of the seeds: 43 body paragraphs and one photo caption
# The public evaluation data sets, beside the checkout as docs/evaluation.md, "Evaluation data", lays them out.
DATA = PROJECT.parent / "shared" / "data"
SQUAD = DATA / "squad-dev"
SCIFACT = DATA / "scifact"
REPORTS = pytest.StashKey[list[tuple[str, str]]]()  # (title, table) pairs printed after the run
REAL_MODEL_FIXTURES = {"seeds_config", "retriever"}


def readable(question: str) -> bool:
    """Whether the model can read the question (a gold set's gibberish is told it is not English instead)."""
    try:
        LanguageCheck().check(question)
    except Unreadable:
        return False
    return True


def needs_data(*paths: Path) -> pytest.MarkDecorator:
    """Skip unless every path of an evaluation data set is there, saying which is missing and where to get it."""
    missing = [str(path) for path in paths if not path.exists()]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not found: docs/evaluation.md, \"Evaluation "
                              "data\" says where the data set comes from and how to lay it out")


@pytest.fixture(autouse=True)
def virtualenv_active(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shell as a user with the project's virtualenv active has it: `python` is this interpreter, so the
    commands the command line prints read `python -m retrieval ...` (tests of the other cases set PATH themselves)."""
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


@pytest.fixture(scope="session")
def seeds_config(tmp_path_factory: pytest.TempPathFactory) -> RetrievalConfig:
    return RetrievalConfig(sources=SEEDS, index=tmp_path_factory.mktemp("seeds") / "index")


@pytest.fixture(scope="session")
def retriever(seeds_config: RetrievalConfig) -> Retriever:
    """The seeds index, built once with the packaged model; tests must not modify it. Slow tests only."""
    return open_retriever(seeds_config, progress=False)


@pytest.fixture(scope="session")
def fast_config(tmp_path_factory: pytest.TempPathFactory) -> RetrievalConfig:
    return RetrievalConfig(sources=SEEDS, index=tmp_path_factory.mktemp("fast-seeds") / "index")


@pytest.fixture(scope="session")
def fast_retriever(fast_config: RetrievalConfig) -> Retriever:
    """The seeds index built with WordHashEncoder: real passages, citations, BM25 and gate, no model. Its word
    overlap finds the obvious passage (the resettlement paragraph for the resettlement question) but it answers
    off-topic questions too, so tests of what is or is not covered belong to the slow tier."""
    return open_retriever(fast_config, progress=False, encoder=WordHashEncoder())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that asks for the real model must say so, so that `-m "not slow"` never loads it."""
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow"):
            raise pytest.UsageError(f"{item.nodeid} uses the real model: mark it @pytest.mark.slow")


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """Print the measured figures (accuracy, timings) that tests collected, so CI logs show them."""
    for title, table in config.stash.get(REPORTS, []):
        terminalreporter.section(title)
        terminalreporter.write_line(table)
