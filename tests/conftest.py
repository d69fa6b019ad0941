"""Shared fixtures: the real seeds, the real model and one real index built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import RetrievalConfig, Retriever, open_retriever

PROJECT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT / "seeds"
GOLD = SEEDS / "gold.toml"  # the seeds' gold questions, shipped beside them (the corpus loader skips .toml files)
SEED_PASSAGES = 44  # answerable blocks of the seeds: 43 body paragraphs and one photo caption
REPORTS = pytest.StashKey[list[tuple[str, str]]]()  # (title, table) pairs printed after the run


@pytest.fixture(scope="session")
def seeds_config(tmp_path_factory: pytest.TempPathFactory) -> RetrievalConfig:
    return RetrievalConfig(sources=SEEDS, index=tmp_path_factory.mktemp("seeds") / "index")


@pytest.fixture(scope="session")
def retriever(seeds_config: RetrievalConfig) -> Retriever:
    """The seeds index, built once with the packaged model; tests must not modify it."""
    return open_retriever(seeds_config, progress=False)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """Print the measured figures (accuracy, timings) that tests collected, so CI logs show them."""
    for title, table in config.stash.get(REPORTS, []):
        terminalreporter.section(title)
        terminalreporter.write_line(table)
