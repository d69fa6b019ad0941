"""The index on disk: built atomically, checked on every open, and never lost to a failed build."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval import IndexCorrupt, IndexMissing, IndexProblem, IndexStale, RetrievalConfig, load_corpus, open_retriever
from retrieval.encode.embed import PACKAGED_SHA256, LazyEncoder, resolve_model
from retrieval.ingest.prepared import prepare
from retrieval.store.build import build_index
from retrieval.store.index import CONTEXT_VECTORS, CURRENT, EMBEDDINGS, MANIFEST, VECTORS, open_index

from ...conftest import SEED_PASSAGES, SEEDS
from ...encoders import WordHashEncoder


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A private copy of the seeds that a test may edit."""
    return Path(shutil.copytree(SEEDS, tmp_path / "sources"))


def build_copy(encoder, tmp_path: Path, sources: Path) -> RetrievalConfig:
    config = RetrievalConfig(sources=sources, index=tmp_path / "index", auto_build="never")
    build_index(prepare(load_corpus(sources)), encoder, config.index, sources, progress=False)
    return config


@pytest.fixture
def built(fast_retriever, tmp_path: Path, sources: Path) -> RetrievalConfig:
    """A private index over the copied seeds, built with the word-hash stand-in for the model."""
    return build_copy(fast_retriever.encoder, tmp_path, sources)


@pytest.fixture
def built_with_model(retriever, tmp_path: Path, sources: Path) -> RetrievalConfig:
    """The same with the session's already loaded model, for tests that open it as the configured model would."""
    return build_copy(retriever.encoder, tmp_path, sources)


@pytest.mark.slow
def test_manifest_records_model_dimension_fingerprint_and_counts(retriever):
    manifest = retriever.index.manifest
    assert manifest.model_name == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest.model_sha256 == PACKAGED_SHA256
    assert (manifest.dimension, manifest.sources, manifest.vectors) == (384, 3, SEED_PASSAGES)
    assert manifest.corpus_fingerprint == load_corpus(SEEDS).fingerprint


def test_a_missing_index_says_how_to_build_it(tmp_path: Path):
    config = RetrievalConfig(sources=SEEDS, index=tmp_path / "none", auto_build="never")
    with pytest.raises(IndexMissing, match="python -m retrieval build"):
        open_retriever(config, encoder=WordHashEncoder())  # the packaged model's file is not read (about 3 s)


def test_a_truncated_vectors_file_is_reported_and_left_alone(built: RetrievalConfig):
    vectors = built.index / CURRENT / VECTORS
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="damaged"):
        open_index(built.index)
    assert vectors.stat().st_size == 100


@pytest.mark.slow
def test_edited_sources_make_the_index_stale_until_rebuilt(built_with_model: RetrievalConfig, sources: Path):
    with (sources / "002_2cd59995d98d1c0d.txt").open("a", encoding="utf-8") as handle:
        handle.write("\n\nA new closing paragraph.\n")
    with pytest.raises(IndexStale, match="changed since"):
        open_retriever(built_with_model)
    rebuilt = open_retriever(built_with_model, rebuild=True, progress=False)
    assert rebuilt.index.manifest.vectors == SEED_PASSAGES + 1


@pytest.mark.slow
def test_an_index_from_another_model_names_both_models(built_with_model: RetrievalConfig):
    manifest_file = built_with_model.index / CURRENT / MANIFEST
    data = json.loads(manifest_file.read_text())
    data.update(model_name="some/other-model", model_sha256="0" * 64)
    manifest_file.write_text(json.dumps(data))
    with pytest.raises(IndexStale, match=r"some/other-model.*all-MiniLM-L6-v2"):
        open_retriever(built_with_model)


def test_an_index_of_another_format_version_asks_for_a_rebuild(built: RetrievalConfig):
    manifest_file = built.index / CURRENT / MANIFEST
    manifest_file.write_text(json.dumps({**json.loads(manifest_file.read_text()), "format_version": 99}))
    with pytest.raises(IndexStale, match="format version 99"):
        open_index(built.index)


def test_a_failed_build_keeps_the_previous_index(fast_retriever, built: RetrievalConfig, sources: Path):
    before = (built.index / CURRENT).resolve()

    class Exploding:
        identity = fast_retriever.encoder.identity
        dimension = fast_retriever.encoder.dimension

        def encode(self, texts, on_batch=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(prepare(load_corpus(sources)), Exploding(), built.index, sources, progress=False, reuse=False)
    assert (built.index / CURRENT).resolve() == before
    assert open_index(built.index).manifest.vectors == SEED_PASSAGES
    assert [p.name for p in (built.index / "builds").iterdir()] == [before.name]


def test_a_rebuild_keeps_only_the_build_it_replaced_for_readers_still_on_it(fast_retriever, built: RetrievalConfig,
                                                                              sources: Path):
    first = (built.index / CURRENT).resolve()
    build_index(prepare(load_corpus(sources)), fast_retriever.encoder, built.index, sources, progress=False)
    second = (built.index / CURRENT).resolve()
    assert second != first and first.exists()
    build_index(prepare(load_corpus(sources)), fast_retriever.encoder, built.index, sources, progress=False)
    third = (built.index / CURRENT).resolve()
    assert sorted((built.index / "builds").iterdir()) == [second, third] and not first.exists()


def test_a_folder_with_other_files_is_never_used_as_an_index(fast_retriever, tmp_path: Path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work")
    with pytest.raises(IndexProblem, match="not an index folder"):
        build_index(prepare(load_corpus(SEEDS)), fast_retriever.encoder, precious, SEEDS, progress=False)
    assert [p.name for p in precious.iterdir()] == ["thesis.docx"]


@pytest.mark.slow
def test_a_rebuild_embeds_only_what_changed(retriever, built_with_model: RetrievalConfig, sources: Path):
    park = sources / "002_2cd59995d98d1c0d.txt"
    park.write_text(park.read_text(encoding="utf-8").replace("about 215 North Korean refugees",
                                                             "about 216 North Korean refugees"), encoding="utf-8")
    (sources / "extra.txt").write_text("A New Note\n\nFirst new paragraph.\n\nSecond new paragraph.\n")
    (sources / "000_ae65aa517ac172e1.txt").unlink()
    manifest = sources / "sources.toml"  # its entry goes with the file
    text = manifest.read_text()
    manifest.write_text(text[text.index('[[source]]\nid = "park-hero"'):])
    edited = build_index(prepare(load_corpus(sources)), retriever.encoder, built_with_model.index, sources,
                         progress=False)
    assert edited.embedded == 3  # the edited paragraph and the two new ones; nothing for the removed file
    assert edited.vectors == SEED_PASSAGES - 9 + 2  # the removed file had 8 paragraphs and a caption
    rebuilt = open_retriever(built_with_model)
    best = rebuilt.search("How many North Korean refugees has NAUH resettled?")[0]
    assert "about 216 North Korean refugees" in best.text


@pytest.mark.slow
def test_removing_a_file_rebuilds_without_loading_the_model(built_with_model: RetrievalConfig, sources: Path):
    (sources / "000_ae65aa517ac172e1.txt").unlink()
    manifest = sources / "sources.toml"  # its entry goes with the file
    manifest.write_text(manifest.read_text()[manifest.read_text().index('[[source]]\nid = "park-hero"'):])
    lazy = LazyEncoder(resolve_model())
    rebuilt = build_index(prepare(load_corpus(sources)), lazy, built_with_model.index, sources, progress=False)
    assert (rebuilt.embedded, rebuilt.vectors, lazy.loaded) == (0, 43 - 8, None)
    assert open_retriever(built_with_model).answerable_count("park-hero") > 0


def test_reused_vectors_equal_freshly_computed_ones(fast_retriever, built: RetrievalConfig, sources: Path):
    again = build_index(prepare(load_corpus(sources)), fast_retriever.encoder, built.index, sources, progress=False)
    fresh_dir = built.index.parent / "fresh"
    fresh = build_index(prepare(load_corpus(sources)), fast_retriever.encoder, fresh_dir, sources, progress=False,
                        reuse=False)
    assert (again.embedded, fresh.embedded) == (0, SEED_PASSAGES)
    for vectors in (EMBEDDINGS, CONTEXT_VECTORS):
        reused = np.load(built.index / CURRENT / vectors)
        computed = np.load(fresh_dir / CURRENT / vectors)
        assert np.allclose(reused, computed, atol=1e-5)
