"""The index in Milvus (embedded Milvus Lite, and a Milvus Lite server shared by several clients): the same
answers as the FAISS store, incremental builds switched in by one alias, and errors that say what to do."""

import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from retrieval import (
    ConfigError,
    IndexMissing,
    IndexProblem,
    IndexStale,
    RetrievalConfig,
    Retriever,
    build_from,
    load_config,
    open_retriever,
)
from retrieval.benchmarks.milvus_lite import MilvusServer
from retrieval.errors import StoreUnavailable
from retrieval.evaluate.evaluate import load_gold
from retrieval.store.milvus import MilvusPlace
from retrieval.store.milvus.common import RECORDS

from ...conftest import GOLD, SEED_PASSAGES, SEEDS, readable
from ...encoders import WordHashEncoder


def milvus_config(uri: Path | str, sources: Path = SEEDS, **changes) -> RetrievalConfig:
    return RetrievalConfig(sources=sources, store="milvus", milvus_uri=str(uri), **changes)


@pytest.fixture(scope="module")
def in_milvus(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """The seeds in embedded Milvus Lite, built with the word-hash stand-in for the model."""
    uri = tmp_path_factory.mktemp("milvus") / "seeds.db"
    return open_retriever(milvus_config(uri), progress=False, encoder=WordHashEncoder())


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEEDS, tmp_path / "sources"))


def shown(retriever: Retriever, question: str) -> list[tuple]:
    answer = retriever.answer(question)
    return [(h.source.id, h.passage.paragraph, round(h.score, 4), round(h.relevance, 4), h.highlights,
             [(d.source.id, d.passage.paragraph) for d in h.also_in]) for h in answer.hits]


@pytest.mark.slow
def test_every_gold_question_gets_the_faiss_stores_answer(in_milvus: Retriever, fast_retriever: Retriever):
    assert in_milvus.index.exact == {"rows", "contexts", "sentences"}  # scored in Milvus
    questions = [q.q for q in load_gold(GOLD) if readable(q.q)]
    assert [shown(in_milvus, q) for q in questions] == [shown(fast_retriever, q) for q in questions]
    assert in_milvus.index.manifest.vectors == SEED_PASSAGES


def test_milvus_bm25_scores_as_bm25s_does(in_milvus: Retriever, fast_retriever: Retriever):
    asked = fast_retriever.index.terms_many(["How many North Korean refugees has NAUH resettled in the US?"])
    rows = np.arange(SEED_PASSAGES)
    (ours,), (theirs,) = fast_retriever.index.lexical_hits(asked, 10), in_milvus.index.lexical_hits(asked, 10)
    assert sorted(ours.top.tolist()) == sorted(theirs.top.tolist())
    np.testing.assert_allclose(theirs.scores(rows), ours.scores(rows), rtol=1e-4, atol=1e-5)
    assert theirs.ceiling == pytest.approx(ours.ceiling)


def test_batched_questions_agree_with_single_ones(in_milvus: Retriever):
    questions = [q.q for q in load_gold(GOLD)][:6]
    together = in_milvus.answer_many(questions)
    assert [[h.passage for h in a.hits] for a in together] == [
        [h.passage for h in in_milvus.answer(q).hits] for q in questions]


def test_a_source_reads_whole_and_in_order(in_milvus: Retriever, fast_retriever: Retriever):
    for source_id in fast_retriever.sources:
        assert in_milvus.passages_of(source_id) == fast_retriever.passages_of(source_id)
        assert in_milvus.answerable_count(source_id) == fast_retriever.answerable_count(source_id)
    assert in_milvus.sources == fast_retriever.sources
    hit = fast_retriever.search("How many North Korean refugees has NAUH resettled?")[0]
    assert in_milvus.context(hit, 2) == fast_retriever.context(hit, 2)


def test_only_the_sources_are_read_when_it_opens(in_milvus: Retriever):
    fresh = open_retriever(milvus_config(in_milvus.index.place.uri, auto_build="never"), encoder=WordHashEncoder())
    assert len(fresh.index.records) == len(fresh.index.blocks) == 0  # nothing of the passages yet
    fresh.search("How many North Korean refugees has NAUH resettled?")
    assert 0 < len(fresh.index.records) < SEED_PASSAGES


def test_a_rebuild_embeds_only_what_changed_and_switches_in_whole(tmp_path: Path, sources: Path):
    config = milvus_config(tmp_path / "m.db", sources)
    first = open_retriever(config, progress=False, encoder=WordHashEncoder())
    with (sources / "added.txt").open("w", encoding="utf-8") as out:
        out.write("Added\n\nA new paragraph about Pyongyang's bus timetables, written for this test.\n")
    again = replace(config, auto_build="stale")
    second = open_retriever(again, progress=False, encoder=WordHashEncoder())
    assert second.index.manifest.embedded == 1 and second.index.manifest.vectors == SEED_PASSAGES + 1
    assert "bus timetables" in second.search("Pyongyang bus timetables")[0].text
    # the build a reader opened before the switch is kept until the next one, so it finishes on it
    assert first.search("How many North Korean refugees has NAUH resettled?")
    (sources / "added.txt").unlink()
    third = open_retriever(again, progress=False, encoder=WordHashEncoder())
    place = MilvusPlace(config.milvus_uri)
    client = place.connect()
    assert set(place.builds(client)) == {second.index.build, third.index.build}
    assert place.live_build(client) == third.index.build and third.index.manifest.embedded == 0


@pytest.mark.slow
def test_a_full_rebuild_embeds_everything(tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch):
    config = milvus_config(tmp_path / "m.db", sources)
    open_retriever(config, progress=False, encoder=WordHashEncoder())
    monkeypatch.setattr("retrieval.loader.load_encoder", lambda *a, **k: WordHashEncoder())
    monkeypatch.setattr("retrieval.loader.resolve_model", lambda *a, **k: WordHashEncoder.identity)
    assert build_from(config, sources, reuse=False, progress=False).embedded == SEED_PASSAGES
    assert build_from(config, sources, progress=False).embedded == 0


def test_moving_from_faiss_embeds_nothing_again(tmp_path: Path, fast_config: RetrievalConfig,
                                               fast_retriever: Retriever, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("retrieval.loader.load_encoder", lambda *a, **k: WordHashEncoder())
    monkeypatch.setattr("retrieval.loader.resolve_model", lambda *a, **k: WordHashEncoder.identity)
    config = milvus_config(tmp_path / "m.db")
    assert build_from(config, SEEDS, vectors_from=fast_config.index, progress=False).embedded == 0
    with pytest.raises(IndexMissing, match=r"no FAISS index at .*nowhere to take vectors from"):
        build_from(milvus_config(tmp_path / "n.db"), SEEDS, vectors_from=tmp_path / "nowhere")


def test_no_index_yet_says_how_to_build_it(tmp_path: Path):
    with pytest.raises(IndexMissing, match="python -m retrieval build"):
        open_retriever(milvus_config(tmp_path / "m.db", auto_build="never"), encoder=WordHashEncoder())


def test_changed_sources_make_it_stale(tmp_path: Path, sources: Path):
    config = milvus_config(tmp_path / "m.db", sources)
    open_retriever(config, progress=False, encoder=WordHashEncoder())
    (sources / "added.txt").write_text("Added\n\nA paragraph that changes the corpus.\n", encoding="utf-8")
    with pytest.raises(IndexStale, match=r"changed since the index at .*m\.db \(collection sourcebot\)"):
        open_retriever(replace(config, auto_build="never"), encoder=WordHashEncoder())


def test_an_unreachable_server_is_one_clear_error():
    with pytest.raises(IndexProblem, match=r"cannot reach Milvus at http://127\.0\.0\.1:9 .*start it"):
        open_retriever(milvus_config("http://127.0.0.1:9"), encoder=WordHashEncoder())


def test_an_alias_that_is_not_ours_is_reported_not_followed(tmp_path: Path):
    config = milvus_config(tmp_path / "m.db", milvus_collection="elsewhere")
    client = MilvusPlace(config.milvus_uri, "elsewhere").connect()
    schema = client.create_schema(auto_id=False)
    from pymilvus import DataType

    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="IP")
    client.create_collection("someone_else", schema=schema, index_params=index)
    client.create_alias("someone_else", "elsewhere")
    with pytest.raises(IndexProblem, match="not one of this index's builds"):
        open_retriever(config, encoder=WordHashEncoder())


def test_config_names_the_milvus_mistake(tmp_path: Path):
    with pytest.raises(ConfigError, match="`milvus_uri` is needed"):
        RetrievalConfig(store="milvus")
    with pytest.raises(ConfigError, match=r"must end in \.db"):
        RetrievalConfig(store="milvus", milvus_uri="milvus-data")
    with pytest.raises(ConfigError, match="milvus_collection"):
        RetrievalConfig(milvus_collection="two words")
    config = tmp_path / "bot" / "config.toml"
    config.parent.mkdir()
    config.write_text('[retrieval]\nstore = "milvus"\nmilvus_uri = "data/milvus.db"\n', encoding="utf-8")
    assert load_config(config).retrieval.milvus_uri == str(tmp_path / "bot" / "data" / "milvus.db")
    config.write_text('[retrieval]\nstore = "milvus"\nmilvus_uri = "http://10.0.0.5:19530"\n', encoding="utf-8")
    assert load_config(config).retrieval.milvus_uri == "http://10.0.0.5:19530"
    config.write_text('[retrieval]\nstore = "chroma"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'faiss', 'milvus'"):
        load_config(config)


@pytest.mark.slow
def test_clients_of_one_server_share_its_index(tmp_path: Path, fast_retriever: Retriever):
    question = "How many North Korean refugees has NAUH resettled?"
    with MilvusServer(tmp_path / "server") as server:
        config = milvus_config(server.url)
        builder = open_retriever(config, progress=False, encoder=WordHashEncoder())
        replicas = [open_retriever(replace(config, auto_build="never"), encoder=WordHashEncoder()) for _ in "ab"]
        assert {r.index.build for r in replicas} == {builder.index.build}
        assert [shown(r, question) for r in replicas] == [shown(fast_retriever, question)] * 2
        names = MilvusPlace(server.url).connect().list_collections()
        assert any(name.endswith(RECORDS) for name in names)
    with MilvusServer(tmp_path / "server") as restarted:  # it comes back with every collection released
        again = open_retriever(replace(milvus_config(restarted.url), auto_build="never"), encoder=WordHashEncoder())
        assert shown(again, question) == shown(fast_retriever, question)


@pytest.mark.slow
def test_with_the_model_every_gold_question_gets_the_same_top_three(retriever: Retriever, tmp_path: Path):
    in_milvus = open_retriever(milvus_config(tmp_path / "m.db"), progress=False, encoder=retriever.encoder,
                               questions=retriever.questions)
    for question in (q.q for q in load_gold(GOLD) if readable(q.q)):
        ours = retriever.answer(question, k=3, gate=False)
        theirs = in_milvus.answer(question, k=3, gate=False)
        assert [h.passage for h in theirs.hits] == [h.passage for h in ours.hits], question
        # late interaction reads the FAISS index's kept int8 token vectors, and Milvus's passages with the model
        assert theirs.relevance == pytest.approx(ours.relevance, abs=2e-3), question


@pytest.mark.parametrize("kind", ["ivf-sq8", "hnsw"])
def test_the_approximate_index_kinds_are_milvus_indexes_too(tmp_path: Path, kind: str, fast_retriever: Retriever):
    in_milvus = open_retriever(milvus_config(tmp_path / "m.db", index_type=kind), progress=False,
                               encoder=WordHashEncoder())
    place = in_milvus.index.place
    described = place.connect().describe_index(place.collection(in_milvus.index.build, "rows"), "vector")
    assert described["index_type"] == {"ivf-sq8": "IVF_SQ8", "hnsw": "HNSW"}[kind]
    found = in_milvus.search("How many North Korean refugees has NAUH resettled?")
    assert "about 215 North Korean refugees" in found[0].text
    # cosines come from the stored vectors, not from the quantised or graph index's distances
    assert not in_milvus.index.exact
    vector = WordHashEncoder().encode(["NAUH refugees"])[0]
    rows = np.arange(SEED_PASSAGES)
    np.testing.assert_allclose(in_milvus.index.cosines_of(rows, vector), fast_retriever.index.cosines_of(rows, vector),
                               atol=1e-6)
    np.testing.assert_allclose(in_milvus.index.context_cosines_of(rows, vector),
                               fast_retriever.index.context_cosines_of(rows, vector), atol=1e-6)
    np.testing.assert_allclose(in_milvus.index.best_sentences_of(rows, vector),
                               fast_retriever.index.best_sentences_of(rows, vector), atol=1e-6)


@pytest.mark.slow
def test_a_milvus_lite_file_open_elsewhere_is_one_line_that_says_what_to_do(in_milvus: Retriever, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f'[retrieval]\nstore = "milvus"\nmilvus_uri = "{in_milvus.index.place.uri}"\n',
                      encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "retrieval", "sources", "--config", str(config)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        f"error: cannot open the Milvus Lite file {in_milvus.index.place.uri}: another process may have it open "
        "(Milvus Lite serves one process: to share it, run `python -m milvus_lite server --data-dir "
        f"{in_milvus.index.place.uri} --host 127.0.0.1` and set `milvus_uri` to its URL), or it is not Milvus "
        "Lite's"]


# Slow (a Milvus Lite server started twice, about 6 s); the fast tier holds the same recovery through the bot:
# tests/bot/test_store_outage.py, test_questions_are_answered_again_once_milvus_is_back.
@pytest.mark.slow
def test_a_replica_recovers_on_its_own_when_milvus_restarts(tmp_path: Path, fast_retriever: Retriever):
    question = "How many North Korean refugees has NAUH resettled?"
    server = MilvusServer(tmp_path / "server")
    with server:
        config = milvus_config(server.url)
        open_retriever(config, progress=False, encoder=WordHashEncoder())
        replica = open_retriever(replace(config, auto_build="never"), encoder=WordHashEncoder())
    with server:  # the same server back on the same port, with every collection released
        for _ in range(20):
            try:
                found = shown(replica, question)
                break
            except StoreUnavailable as error:  # only until the client has reconnected, a second or two
                assert "released" not in str(error)
                time.sleep(0.5)
    assert found == shown(fast_retriever, question)
