"""The shared library and a server's own searched as one (store/layered.py): the same ranking, fused scores and
gate as one index holding both, and a server's source never shown under a shared source's id."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from retrieval import QueryError, Retriever, load_corpus
from retrieval.ingest.prepared import prepare
from retrieval.settings import SearchSettings
from retrieval.store.build import build_index
from retrieval.store.index import StoredIndex, open_index
from retrieval.store.layered import LayeredIndex
from tests.encoders import WordHashEncoder

from ...conftest import GOLD, SEEDS

INTERVIEW = "003_2ac4c49e24a0035a.txt"


def indexed(folder: Path, where: Path) -> StoredIndex:
    build_index(prepare(load_corpus(folder)), WordHashEncoder(), where, folder, progress=False)
    return open_index(where)


@pytest.fixture(scope="module")
def split_seeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[StoredIndex, StoredIndex, StoredIndex]:
    """The seeds as a shared library of two documents and a server's own third, and as one index of all three."""
    root = tmp_path_factory.mktemp("split")
    shared, own, union = root / "shared", root / "own", root / "union"
    manifest = re.sub(r'\[\[source\]\]\nid = "freedom-collection-ji".*', "", (SEEDS / "sources.toml").read_text(),
                      flags=re.S)
    for folder in (shared, union):
        folder.mkdir()
        for file in SEEDS.glob("00*.txt"):
            if file.name != INTERVIEW:
                shutil.copy(file, folder / file.name)
        (folder / "sources.toml").write_text(manifest)
    own.mkdir()
    for folder in (own, union):
        shutil.copy(SEEDS / INTERVIEW, folder / "interview.txt")
    return indexed(shared, root / "i-shared"), indexed(own, root / "i-own"), indexed(union, root / "i-union")


def questions() -> list[str]:
    return [q["q"] for q in tomllib.loads(GOLD.read_text())["question"]]


def test_a_servers_document_competes_as_if_in_one_index_with_the_shared(split_seeds):
    shared, own, union = split_seeds
    # Late interaction off: its blend reads the first five passages as z-scores among them, and a paragraph the
    # layered index shows twice (once from each library) is one passage in the single index, which moves the blend
    plain = SearchSettings(late_interaction=False)
    layered = Retriever(LayeredIndex([shared, own]), WordHashEncoder(), plain)
    one = Retriever(union, WordHashEncoder(), plain)
    asked = questions()
    same_first = same_relevance = 0
    for question in asked:
        try:
            b = one.answer(question)
        except QueryError:  # a question the library refuses (gibberish, another language): refused alike
            with pytest.raises(QueryError):
                layered.answer(question)
            continue
        a = layered.answer(question)
        # the same first source but where two sources hold the same paragraph: one index scores the copies
        # alike, two libraries' length normalisations part them by a hair, and the gate reads the first few
        same_first += layered.ranked_sources(question, 1) == one.ranked_sources(question, 1)
        same_relevance += a.relevance == pytest.approx(b.relevance, abs=2e-3)
        assert a.covered == b.covered, question
        if b.covered:
            assert a.hits[0].score == pytest.approx(b.hits[0].score, abs=0.01), question
        # BM25 with both libraries' word statistics: equal to one index's but for length normalisation
        (terms,) = layered.index.terms_many([question])
        rows = np.arange(layered.index.count)
        merged = layered.index.lexical_hits([terms], len(rows))[0]
        alone = [shared.lexical_hits([terms], shared.count)[0], own.lexical_hits([terms], own.count)[0]]
        assert merged.ceiling == pytest.approx(one.index.lexical_hits([terms], 1)[0].ceiling)
        assert np.allclose(merged.scores(rows), union.lexical_hits([terms], union.count)[0].scores(rows),
                           rtol=0.01, atol=1e-3)
    assert len(asked) > 30 and same_first >= 0.9 * len(asked) and same_relevance >= 0.95 * len(asked)
    # without the merged statistics the server's document would not compete fairly: its own idf is another's
    assert not np.allclose(alone[1].scores(np.arange(own.count)),
                           merged.scores(np.arange(shared.count, shared.count + own.count)), rtol=0.01)


def test_the_libraries_mean_vector_is_the_one_index_of_both_would_have(split_seeds):
    """The gate reads a question's cosine to the corpus's mean passage vector: all libraries' passages count."""
    shared, own, union = split_seeds
    np.testing.assert_allclose(LayeredIndex([shared, own]).centroid, union.centroid, atol=1e-6)
    np.testing.assert_allclose(union.centroid, np.asarray(union.embeddings).mean(axis=0), atol=1e-6)


def test_a_servers_source_with_a_shared_id_is_hidden_not_misnamed(split_seeds, tmp_path: Path):
    shared, _, _ = split_seeds
    folder = tmp_path / "clash"
    folder.mkdir()
    (folder / "park-hero.txt").write_text("Not the column\n\nA server's own note that quotes park hero words.\n")
    (folder / "tides.txt").write_text("Tides\n\nThe harbour tide tables are posted weekly.\n")
    own = indexed(folder, tmp_path / "i-clash")
    layered = LayeredIndex([shared, own])
    assert layered.sources["park-hero"] is shared.sources["park-hero"] and layered.library("tides") == 1
    retriever = Retriever(layered, WordHashEncoder())
    for question in ("A server's own note that quotes park hero words", "When are the harbour tide tables posted?"):
        for hit in retriever.answer(question, 5, gate=False).hits:
            assert "own note" not in hit.text  # the hidden document's passage never comes back
    assert retriever.answer("When are the harbour tide tables posted?", 1).hits[0].source.id == "tides"


def test_a_question_nothing_answers_gets_no_hits_not_a_fault(split_seeds):
    shared, own, _ = split_seeds
    strict = SearchSettings(min_relevance=1.0)  # the gate shows nothing: no rows to highlight
    retriever = Retriever(LayeredIndex([shared, own]), WordHashEncoder(), strict)
    assert retriever.answer("What did Ji Seong-ho say?", 3).hits == []
    empty = retriever.index.sentences_of(np.zeros(0, dtype=np.int64))
    assert len(empty.offsets) == 1 and len(empty.spans) == 0


def test_on_milvus_the_layers_score_as_on_faiss(split_seeds, tmp_path: Path):
    """The shared library and a server's own as collections of their own in Milvus (embedded Milvus Lite)."""
    from retrieval.store.milvus import MilvusPlace

    faiss_layers = split_seeds[:2]
    uri = str(tmp_path / "layers.db")
    places = [MilvusPlace(uri, "shared"), MilvusPlace(uri, "shared_server_7")]
    for place, stored in zip(places, faiss_layers, strict=True):
        folder = Path(stored.manifest.sources_path)
        place.build(prepare(load_corpus(folder)), WordHashEncoder(), folder, progress=False)
    milvus = Retriever(LayeredIndex([place.open() for place in places]), WordHashEncoder())
    faiss = Retriever(LayeredIndex(list(faiss_layers)), WordHashEncoder())
    for question in questions()[:12]:
        (terms,) = faiss.index.terms_many([question])
        rows = np.arange(faiss.index.count)
        ours, theirs = faiss.index.lexical_hits([terms], 10)[0], milvus.index.lexical_hits([terms], 10)[0]
        assert np.allclose(ours.scores(rows), theirs.scores(rows), rtol=1e-3, atol=1e-4), question
        assert ours.ceiling == pytest.approx(theirs.ceiling) and set(ours.top) == set(theirs.top), question
        assert [h.passage for h in milvus.answer(question).hits] == [h.passage for h in faiss.answer(question).hits]
