"""bench-stores on a small BEIR-shaped corpus made from the seeds: both stores measured in one run, agreeing."""

import json
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, load_corpus
from retrieval.benchmarks.stores import bench_stores, stores_table
from retrieval.evaluate.evaluate import load_beir

from ...conftest import SEEDS
from ...encoders import WordHashEncoder


def seeds_as_beir(folder: Path) -> Path:
    """Each seed paragraph a document; a question per paragraph, of its first words, answered by it."""
    passages = [p for p in load_corpus(SEEDS).passages if p.answerable]
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as corpus:
        for n, passage in enumerate(passages):
            corpus.write(json.dumps({"_id": f"d{n}", "title": "", "text": passage.text}) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as queries:
        for n, passage in enumerate(passages):
            queries.write(json.dumps({"_id": f"q{n}", "text": " ".join(passage.text.split()[:8])}) + "\n")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{n}\td{n}\t1\n" for n in range(len(passages))), encoding="utf-8")
    return folder


@pytest.mark.slow
def test_both_stores_are_measured_and_agree(tmp_path: Path):
    beir = seeds_as_beir(tmp_path / "beir")
    queries, qrels = load_beir(beir, "test")
    figures, same = bench_stores(RetrievalConfig(), beir / "corpus.jsonl", tmp_path / "faiss", tmp_path / "milvus.db",
                                 "bench", WordHashEncoder(), queries, qrels, total=16, log=lambda _: None)
    faiss, milvus = figures
    assert same == 1.0 and faiss.ndcg10 == milvus.ndcg10 > 0.5
    assert faiss.passages == milvus.passages == len(qrels)
    assert milvus.server_kb_per_passage > 0 and faiss.server_kb_per_passage == 0
    assert all(f.disk_kb_per_passage > 0 and f.speed["batched, 32"] > 0 for f in figures)
    assert "same top 3 sources in both: 100.0%" in stores_table(figures, same)
