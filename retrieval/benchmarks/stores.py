"""`python -m retrieval bench-stores`: the FAISS store beside Milvus (a Milvus Lite server on loopback, reached as
replicas reach a server) over one BEIR corpus, in one run: whether they agree (top 3, nDCG@10), memory and disk
per passage, and questions per second one at a time and batched."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import RetrievalConfig
from ..encode.embed import TextEncoder
from ..evaluate import metrics
from ..evaluate.evaluate import BEIR_DEPTH, table
from ..ingest.corpus import load_corpus
from ..ingest.prepared import prepare
from ..loader import open_retriever
from ..search.retriever import Retriever
from ..store.places import place_of
from .batching import bench_batching
from .milvus_lite import MilvusServer
from .soak import resident_bytes

SPEED_QUESTIONS = 192  # asked by each path at each level: enough for a median, in about a minute on Milvus Lite
SPEED_ASKERS = (1, 32)  # one asker, and the level the batching target is set at (issue 13)
KIB = 1024


@dataclass
class StoreFigures:
    store: str
    passages: int
    ndcg10: float = 0.0
    replica_kb_per_passage: float = 0.0  # what opening the index added to the process that searches
    server_kb_per_passage: float = 0.0  # Milvus's own process, holding the vectors and BM25 postings
    disk_kb_per_passage: float = 0.0
    speed: dict[str, float] = field(default_factory=dict)  # "path, askers" -> questions per second
    p50_ms: dict[str, float] = field(default_factory=dict)


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def measure(store: str, open_store: Callable[[], Retriever], disk: Callable[[], int], server: Callable[[], int],
            queries: dict[str, str], qrels: dict[str, dict[str, int]], asked: list[str],
            total: int, log: Callable[[str], None]) -> tuple[StoreFigures, dict[str, list[str]]]:
    """One store's figures, and its top three sources for each test question."""
    before = resident_bytes()
    retriever = open_store()
    count = retriever.index.count
    figures = StoreFigures(store, count)
    figures.replica_kb_per_passage = round((resident_bytes() - before) / KIB / count, 2)
    figures.disk_kb_per_passage = round(disk() / KIB / count, 2)
    log(f"[bench-stores] {store}: nDCG@10 over {len(qrels)} questions")
    ranked = {q: retriever.ranked_sources(queries[q], BEIR_DEPTH) for q in qrels}
    figures.ndcg10 = round(statistics.fmean(metrics.ndcg(ranked[q], qrels[q], 10) for q in qrels), 4)
    log(f"[bench-stores] {store}: questions per second")
    for level in bench_batching(retriever, asked, SPEED_ASKERS, total, log=log):
        key = f"{level.path}, {level.askers}"
        figures.speed[key], figures.p50_ms[key] = level.questions_per_second, level.p50_ms
    figures.server_kb_per_passage = round(server() / KIB / count, 2)
    return figures, {q: found[:3] for q, found in ranked.items()}


def bench_stores(config: RetrievalConfig, corpus: Path, faiss_index: Path, milvus_data: Path, collection: str,
                 encoder: TextEncoder, queries: dict[str, str], qrels: dict[str, dict[str, int]],
                 total: int, log: Callable[[str], None] = print) -> tuple[list[StoreFigures], float]:
    """Both stores' figures, and the share of test questions whose top three sources are the same in both.
    Each index is built first when missing or stale (FAISS into `faiss_index`, Milvus into `milvus_data`, from
    the FAISS index's vectors)."""
    asked = [queries[q] for q in qrels]
    config = replace(config, auto_build="stale")
    faiss, faiss_top = measure(
        "FAISS", lambda: open_retriever(config, sources=corpus, index=faiss_index, encoder=encoder),
        lambda: folder_bytes(faiss_index.resolve() / "current"), lambda: 0, queries, qrels, asked, total, log)
    with MilvusServer(milvus_data) as server:
        milvus_config = replace(config, store="milvus", milvus_uri=server.url, milvus_collection=collection)
        place = place_of(milvus_config)
        if not place.has_build():  # moved from the FAISS index just measured: nothing is embedded twice
            place.build(prepare(load_corpus(corpus)), encoder, corpus, vectors_from=faiss_index)
        milvus, milvus_top = measure(
            "Milvus (Milvus Lite server)", lambda: open_retriever(milvus_config, sources=corpus, encoder=encoder),
            lambda: folder_bytes(milvus_data), lambda: resident_bytes(server.process.pid), queries, qrels, asked,
            total, log)
    same = sum(faiss_top[q] == milvus_top[q] for q in qrels) / len(qrels)
    return [faiss, milvus], same


def stores_table(figures: list[StoreFigures], same_top3: float) -> str:
    keys = list(figures[0].speed)
    rows = [("passages", [str(f.passages) for f in figures]),
            ("nDCG@10", [f"{f.ndcg10:.4f}" for f in figures]),
            ("searching process, KB per passage", [str(f.replica_kb_per_passage) for f in figures]),
            ("Milvus process, KB per passage", [str(f.server_kb_per_passage) if f.server_kb_per_passage else "—"
                                                for f in figures]),
            ("on disk, KB per passage", [str(f.disk_kb_per_passage) for f in figures])]
    rows += [(f"q/s, {key} askers (p50 ms)", [f"{f.speed[key]} ({f.p50_ms[key]})" for f in figures])
             for key in keys]
    body = table(["", *(f.store for f in figures)], [(name, *values) for name, values in rows])
    return f"{body}\nsame top 3 sources in both: {same_top3:.1%} of the questions (cores: {os.cpu_count()})"
