"""`python -m retrieval bench`: answer() against plain sentence-transformers + FAISS top 3, then search latency,
indexing throughput and memory, incremental rebuilds and quality, each backend beside the plain
sentence-transformers baseline, measured in one run."""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import faiss
import numpy as np

from ..config import RetrievalConfig
from ..encode.embed import native_bf16
from ..errors import QueryError
from ..evaluate.evaluate import evaluate_beir, load_beir, load_gold, table
from ..ingest.corpus import load_corpus
from ..ingest.prepared import prepare
from ..loader import open_retriever
from ..search.retriever import Retriever
from ..store.ann import build_ann
from ..store.build import build_index
from ..store.index import EMBEDDINGS
from .synthetic import EmbeddingShape

LOG = logging.getLogger(__name__)
BACKENDS = ("torch", "torch-bf16", "onnx-int8")  # the baseline first
LATENCY_REPEATS = 3
LARGE_DEFAULT, LARGE_QUERIES, LARGE_TIMED, LARGE_SEED = 1_000_000, 1_000, 200, 20261122
LARGE_KINDS = ("exact", "ivf-sq8")  # hnsw takes about 5 minutes to build at 1M on 2 cores: ask for it
PLAIN_TOP = 3  # what the plain baseline returns: the 3 nearest paragraphs
PLAIN_PASSES = 3  # times each question is asked of each side
WARM_UP = 3  # questions asked of each side before timing (the first loads the question encoder)


@dataclass
class VersusPlain:
    """answer() beside plain sentence-transformers + FAISS top 3, on the same model, paragraphs and questions."""

    questions: int
    passes: int
    answer_p50_ms: float
    answer_p95_ms: float
    plain_p50_ms: float
    plain_p95_ms: float
    ratio: float  # answer() p50 over plain p50: at most 1 is the target
    model_calls: float  # of the question encoder, per question answered


@dataclass
class BackendFigures:
    backend: str
    seeds_p50_ms: float = 0.0
    seeds_p95_ms: float = 0.0
    scifact_p50_ms: float = 0.0
    scifact_p95_ms: float = 0.0
    build_seconds: float = 0.0  # the build command, start-up and model load included
    build_index_seconds: float = 0.0  # of which in build_index: embedding, BM25, duplicates, writing
    passages_per_second: float = 0.0
    peak_rss_mb: float = 0.0
    ndcg10: float = 0.0
    ndcg10_dense: float = 0.0  # the vectors alone, where a change of backend shows most
    rebuild_seconds: float = 0.0  # the build command, start-up and model load included
    rebuild_embedded: int = 0
    rebuild_in_process_seconds: float = 0.0  # build_index with the model already loaded, as /reindex runs it
    notes: list[str] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_build(config_file: Path, sources: Path, index: Path) -> tuple[dict, float, float]:
    """Build in a child process, so its peak memory is its own: (manifest, wall seconds, peak RSS MB)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "retrieval", "build", str(sources), "--index", str(index),
                              "--config", str(config_file), "--json", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"build of {sources} failed with exit code {child.returncode}")
    return json.loads(output), time.perf_counter() - start, usage.ru_maxrss / 1024


def latencies(retriever, questions: list[str]) -> list[float]:
    retriever.answer(questions[0])  # warm up
    return [retriever.answer(q).took_ms for _ in range(LATENCY_REPEATS) for q in questions]


class CountedCalls:
    """An encoder that counts its calls, and is otherwise the one it wraps."""

    def __init__(self, encoder) -> None:
        self.encoder, self.identity, self.calls = encoder, encoder.identity, 0

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    def encode(self, texts, on_batch=None) -> np.ndarray:
        self.calls += 1
        return self.encoder.encode(texts, on_batch)

    # late interaction asks for the question's token vectors with its vector: one call, counted as one
    def encode_with_tokens(self, texts, on_batch=None, tokens=True):
        self.calls += 1
        return self.encoder.encode_with_tokens(texts, on_batch, tokens)

    def token_vectors(self, texts) -> list[np.ndarray]:
        self.calls += 1
        return self.encoder.token_vectors(texts)

    def token_words(self, text: str) -> list[str]:
        return self.encoder.token_words(text)

    def token_offsets(self, texts) -> list[np.ndarray]:
        return self.encoder.token_offsets(texts)


def versus_plain(retriever: Retriever, questions: list[str], passes: int = PLAIN_PASSES) -> VersusPlain:
    """Each question asked of answer() and of plain sentence-transformers (float32, as it loads the model) + an exact
    FAISS inner-product index of the retriever's own passages, top 3, in turn, which goes first alternating, so that
    the machine's load falls on both alike; wall time around each call."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(retriever.encoder.identity.path), device="cpu")
    paragraphs = [passage.text for passage in retriever.index.passages_at(range(retriever.index.count))]
    plain_index = faiss.IndexFlatIP(model.get_embedding_dimension())
    plain_index.add(model.encode(paragraphs, normalize_embeddings=True, convert_to_numpy=True))

    def plain(question: str) -> list[str]:
        vector = model.encode([question], normalize_embeddings=True, convert_to_numpy=True)
        return [paragraphs[row] for row in plain_index.search(vector, PLAIN_TOP)[1][0]]

    counted = CountedCalls(retriever.questions)
    ours = Retriever(retriever.index, retriever.encoder, retriever.settings, retriever.reranker, counted)
    sides = {"answer": ours.answer, "plain": plain}
    for question in questions[:WARM_UP]:
        for ask in sides.values():
            ask(question)
    counted.calls = 0
    timings: dict[str, list[float]] = {name: [] for name in sides}
    for turn in range(passes):
        for at, question in enumerate(questions):
            for name in (("answer", "plain") if (turn + at) % 2 == 0 else ("plain", "answer")):
                start = time.perf_counter()
                sides[name](question)
                timings[name].append((time.perf_counter() - start) * 1000)
    answer_p50, plain_p50 = statistics.median(timings["answer"]), statistics.median(timings["plain"])
    return VersusPlain(len(questions), passes, round(answer_p50, 1), round(percentile(timings["answer"], 0.95), 1),
                       round(plain_p50, 1), round(percentile(timings["plain"], 0.95), 1),
                       round(answer_p50 / plain_p50, 2), round(counted.calls / (passes * len(questions)), 2))


def versus_plain_table(figures: VersusPlain) -> str:
    return table(["", "answer()", "plain ST + FAISS top 3"],
                 [("p50 (ms)", str(figures.answer_p50_ms), str(figures.plain_p50_ms)),
                  ("p95 (ms)", str(figures.answer_p95_ms), str(figures.plain_p95_ms)),
                  ("model calls per question", str(figures.model_calls), "1"),
                  ("answer() p50 / plain p50", f"{figures.ratio:.2f}x", "")])


def bench_versus_plain(seeds: Path, gold: Path, work: Path, model_cache: Path, log) -> VersusPlain:
    """versus_plain() over the seeds, indexed with the default settings, and their gold questions in English."""
    log("[answer] indexing the seeds; answer() against plain sentence-transformers + FAISS, interleaved")
    retriever = open_retriever(RetrievalConfig(sources=seeds, index=work / "seeds-answer", model_cache=model_cache),
                               progress=False)
    readable = []
    for question in load_gold(gold):
        try:
            retriever.checked(question.q, None)
        except QueryError:  # the gold set's questions in other languages are answered without a search
            continue
        readable.append(question.q)
    figures = versus_plain(retriever, readable)
    log(f"[answer] answer() p50 {figures.answer_p50_ms} ms, plain {figures.plain_p50_ms} ms: {figures.ratio:.2f}x")
    return figures


def edit_one_document(corpus: Path, target: Path) -> None:
    """A copy of a corpus.jsonl with the first document's text changed."""
    lines = corpus.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["text"] += " (edited)"
    target.write_text("\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")


def bench_backend(backend: str, scifact: Path, seeds: Path, gold: Path, work: Path,
                  log) -> BackendFigures:
    figures = BackendFigures(backend)
    config = RetrievalConfig(backend=backend, model_cache=work / "models", auto_build="never")
    config_file = work / f"{backend}.toml"
    config_file.write_text(f'[retrieval]\nbackend = "{backend}"\nmodel_cache = "{work / "models"}"\n')
    log(f"[{backend}] indexing the seeds and SciFact")
    run_build(config_file, seeds, work / f"seeds-{backend}")
    manifest, seconds, peak = run_build(config_file, scifact / "corpus.jsonl", work / f"scifact-{backend}")
    figures.build_seconds, figures.peak_rss_mb = round(seconds, 1), round(peak)
    figures.build_index_seconds = manifest["build_seconds"]
    figures.passages_per_second = round(manifest["vectors"] / manifest["build_seconds"], 1)
    log(f"[{backend}] measuring search latency and quality")
    seeds_retriever = open_retriever(replace(config, sources=seeds, index=work / f"seeds-{backend}"))
    seeds_ms = latencies(seeds_retriever, [q.q for q in load_gold(gold)])
    sci = open_retriever(replace(config, sources=scifact / "corpus.jsonl", index=work / f"scifact-{backend}"),
                         encoder=seeds_retriever.encoder, questions=seeds_retriever.questions)
    queries, qrels = load_beir(scifact, "test")
    sci_ms = latencies(sci, list(queries.values()))
    figures.seeds_p50_ms, figures.seeds_p95_ms = round(statistics.median(seeds_ms), 1), round(
        percentile(seeds_ms, 0.95), 1)
    figures.scifact_p50_ms, figures.scifact_p95_ms = round(statistics.median(sci_ms), 1), round(
        percentile(sci_ms, 0.95), 1)
    figures.ndcg10 = round(evaluate_beir(sci, queries, qrels).ndcg10, 4)
    figures.ndcg10_dense = round(evaluate_beir(sci, queries, qrels, "dense").ndcg10, 4)
    log(f"[{backend}] rebuilding after editing one document")
    edited = work / f"edited-{backend}"
    edited.mkdir()
    edit_one_document(scifact / "corpus.jsonl", edited / "corpus.jsonl")
    rebuilt, seconds, _ = run_build(config_file, edited / "corpus.jsonl", work / f"scifact-{backend}")
    figures.rebuild_seconds, figures.rebuild_embedded = round(seconds, 1), rebuilt["embedded"]
    start = time.perf_counter()  # and back to the original document, in this process with the model loaded
    build_index(prepare(load_corpus(scifact / "corpus.jsonl")), sci.encoder, work / f"scifact-{backend}",
                scifact / "corpus.jsonl", progress=False)
    figures.rebuild_in_process_seconds = round(time.perf_counter() - start, 2)
    return figures


@dataclass
class IndexFigures:
    kind: str
    passages: int
    build_seconds: float
    size_mb: float
    p50_ms: float
    p95_ms: float
    recall10: float


def bench_large(real: np.ndarray, count: int, kinds: tuple[str, ...], log) -> list[IndexFigures]:
    """Each index kind over `count` synthetic vectors shaped like `real`: build time, size, single-query
    latency (vector search only) and recall@10 against exact search."""
    shape = EmbeddingShape(real)
    log(f"[large] generating {count:,} synthetic vectors and exact neighbours")
    corpus, queries = shape.sample(count, seed=LARGE_SEED), shape.sample(LARGE_QUERIES, seed=LARGE_SEED + 1)
    exact = faiss.IndexFlatIP(corpus.shape[1])
    exact.add(corpus)
    truth = exact.search(queries, 10)[1]
    figures = []
    for kind in kinds:
        log(f"[large] building {kind}")
        start = time.perf_counter()
        index = exact if kind == "exact" else build_ann(corpus, kind)
        built = 0.0 if kind == "exact" else time.perf_counter() - start
        timings = []
        for query in queries[:LARGE_TIMED]:  # one query at a time, as a bot asks
            tick = time.perf_counter()
            index.search(query[None, :], 10)
            timings.append((time.perf_counter() - tick) * 1000)
        found = index.search(queries, 10)[1]
        recall = float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
        figures.append(IndexFigures(kind, count, round(built, 1), round(faiss.serialize_index(index).nbytes / 2**20),
                                    round(statistics.median(timings), 2), round(percentile(timings, 0.95), 2),
                                    round(recall, 4)))
        if index is not exact:
            del index
    return figures


def large_table(figures: list[IndexFigures]) -> str:
    return table(["index", "passages", "build (s)", "size (MB)", "p50 (ms)", "p95 (ms)", "recall@10"],
                 [(f.kind, f"{f.passages:,}", str(f.build_seconds), str(f.size_mb), str(f.p50_ms), str(f.p95_ms),
                   f"{f.recall10:.4f}") for f in figures])


def report_table(results: list[BackendFigures]) -> str:
    base = results[0]
    rows = [
        ("search p50 / p95, seeds (ms)", [f"{r.seeds_p50_ms} / {r.seeds_p95_ms}" for r in results]),
        ("search p50 / p95, SciFact (ms)", [f"{r.scifact_p50_ms} / {r.scifact_p95_ms}" for r in results]),
        ("SciFact full build (s, whole process)", [str(r.build_seconds) for r in results]),
        ("  of which inside build_index (s)", [str(r.build_index_seconds) for r in results]),
        ("indexing throughput (passages/s)", [str(r.passages_per_second) for r in results]),
        ("  speed-up over torch", [f"{r.passages_per_second / base.passages_per_second:.2f}x" for r in results]),
        ("peak memory of the build (MB)", [str(r.peak_rss_mb) for r in results]),
        ("nDCG@10, SciFact test (hybrid)", [f"{r.ndcg10:.4f}" for r in results]),
        ("nDCG@10, SciFact test (dense only)", [f"{r.ndcg10_dense:.4f}" for r in results]),
        ("rebuild after editing 1 document, command (s)", [f"{r.rebuild_seconds} ({r.rebuild_embedded} embedded)"
                                                            for r in results]),
        ("  faster than this backend's full build", [f"{r.build_seconds / r.rebuild_seconds:.0f}x" for r in results]),
        ("  faster than the torch full build", [f"{base.build_seconds / r.rebuild_seconds:.0f}x" for r in results]),
        ("rebuild in a running process, model loaded (s)", [str(r.rebuild_in_process_seconds) for r in results]),
        ("  faster than the same inside the full build",
         [f"{r.build_index_seconds / r.rebuild_in_process_seconds:.0f}x" for r in results]),
    ]
    return table(["", *(r.backend for r in results)], [(name, *values) for name, values in rows])


def run_bench(scifact: Path | None, seeds: Path, gold: Path, backends: tuple[str, ...] = BACKENDS,
              as_json: bool = False, large: int = LARGE_DEFAULT, large_kinds: tuple[str, ...] = LARGE_KINDS,
              plain_only: bool = False, model_cache: Path = Path(".cache/models")) -> str:
    """Every section's table (or JSON); with `plain_only`, answer() against plain ST + FAISS alone."""
    work = Path(tempfile.mkdtemp(prefix="retrieval-bench-"))

    log = LOG.info  # progress, one line a step: the command line shows it on stderr
    if "torch-bf16" in backends and not native_bf16():
        log("this CPU has no bfloat16 units: leaving torch-bf16 out")
        backends = tuple(b for b in backends if b != "torch-bf16")
    results: list[BackendFigures] = []
    indexes: list[IndexFigures] = []
    try:
        plain = bench_versus_plain(seeds, gold, work, model_cache, log)
        if not plain_only:
            results = [bench_backend(b, scifact, seeds, gold, work, log) for b in backends]
            real = np.load(work / f"scifact-{backends[0]}" / "current" / EMBEDDINGS)
            indexes = bench_large(real, large, large_kinds, log) if large else []
    finally:
        shutil.rmtree(work, ignore_errors=True)
    machine = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, faiss {faiss.__version__}"
    if as_json:
        return json.dumps({"machine": machine, "versus_plain": asdict(plain), "backends": [asdict(r) for r in results],
                           "large": [asdict(f) for f in indexes]}, indent=1)
    text = (f"machine: {machine}\n\nanswer() against plain sentence-transformers + FAISS top 3, {plain.questions} "
            f"seeds gold questions x {plain.passes}, interleaved\n{versus_plain_table(plain)}")
    if plain_only:
        return text
    text += f"\n\n{report_table(results)}"
    return text + (f"\n\nsynthetic corpus shaped like SciFact's embeddings\n{large_table(indexes)}" if indexes else "")
