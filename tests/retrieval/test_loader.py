"""Opening an index: what the library logs while it builds one or finds its sources gone."""

import logging
import shutil
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, open_retriever
from retrieval.ingest import prepared
from retrieval.loader import build_from
from retrieval.settings import ReadSettings

from ..conftest import SEED_PASSAGES, SEEDS
from ..encoders import WordHashEncoder


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("retrieval")]


def test_building_on_first_use_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    config = RetrievalConfig(sources=SEEDS, index=tmp_path / "index")
    with caplog.at_level(logging.INFO, logger="retrieval"):
        retriever = open_retriever(config, progress=False, encoder=WordHashEncoder())
    assert retriever.index.manifest.vectors == SEED_PASSAGES
    records = ours(caplog)
    assert [(r.name, r.levelname) for r in records] == [("retrieval.loader", "INFO")]
    assert records[0].getMessage().endswith(": building the index now")


def test_sources_gone_since_the_build_are_a_warning_not_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    sources = Path(shutil.copytree(SEEDS, tmp_path / "seeds"))
    open_retriever(RetrievalConfig(sources=sources, index=tmp_path / "index"), progress=False,
                   encoder=WordHashEncoder())
    shutil.rmtree(sources)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="retrieval"):
        retriever = open_retriever(RetrievalConfig(auto_build="never"), index=tmp_path / "index",
                                   encoder=WordHashEncoder())
    assert retriever.index.manifest.vectors == SEED_PASSAGES
    records = ours(caplog)
    assert [r.levelname for r in records] == ["WARNING"]
    assert records[0].getMessage() == (f"note: {sources}, which the index was built from, is gone; "
                                              "searching the index as it is")


def test_the_readme_example_works_twice_in_a_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # As the README writes it: strings for paths, run from the checkout; the second call opens what the first
    # built (it once failed there with "'str' object has no attribute 'exists'").
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        retriever = open_retriever(RetrievalConfig(sources="seeds", index="index"), encoder=WordHashEncoder())
        hits = retriever.search("How many North Korean refugees has NAUH resettled?", k=3)
        assert hits and all(hit.citation.startswith("[") for hit in hits)
    assert retriever.index.manifest.vectors == SEED_PASSAGES


def test_a_build_finds_near_duplicates_within_the_configured_reading_bounds(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch):
    """[retrieval.reading] bounds the near-duplicate search of every build, not the defaults (issue 27, item 4)."""
    asked: list[ReadSettings] = []
    real = prepared.near_duplicates
    monkeypatch.setattr(prepared, "near_duplicates", lambda passages, reading: asked.append(reading) or real(
        passages, reading))
    reading = ReadSettings(seconds=45.0, memory_mb=900.0)
    config = RetrievalConfig(sources=SEEDS, index=tmp_path / "first", reading=reading)
    open_retriever(config, progress=False, encoder=WordHashEncoder())
    monkeypatch.setattr("retrieval.loader.load_encoder", lambda *args: WordHashEncoder())
    build_from(config, SEEDS, index=tmp_path / "second", progress=False)
    assert asked == [reading, reading]
