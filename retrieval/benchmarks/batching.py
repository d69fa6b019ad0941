"""`python -m retrieval bench-batch`: questions per second and latency at several numbers of concurrent askers,
one question at a time on one search thread (as the bot asks) beside the Batcher, measured in one run."""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from ..evaluate.evaluate import table
from ..search.batching import Batcher
from ..search.retriever import Answer, Retriever
from ..settings import ServeSettings
from .backends import percentile

CONCURRENCY = (1, 8, 32, 128)
QUESTIONS_PER_LEVEL = 384  # asked at each level by each path: enough for a p99 over a few hundred latencies
WARM_UP = 8


@dataclass
class LevelFigures:
    path: str
    askers: int
    questions: int
    questions_per_second: float
    p50_ms: float
    p99_ms: float


def run_askers(ask: Callable[[str], Answer], questions: list[str], askers: int, total: int) -> LevelFigures:
    """`askers` threads, each asking its share of `total` questions one after another and waiting for each
    answer: the wall time for all of them, and each question's latency from asking to answer."""
    latencies: list[float] = []
    lock = threading.Lock()
    share = -(-total // askers)

    def asker(number: int) -> None:
        mine = []
        for turn in range(share):
            question = questions[(number * share + turn) % len(questions)]
            tick = time.perf_counter()
            ask(question)
            mine.append((time.perf_counter() - tick) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=asker, args=(n,)) for n in range(askers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return LevelFigures("", askers, len(latencies), round(len(latencies) / wall, 1),
                        round(statistics.median(latencies), 1), round(percentile(latencies, 0.99), 1))


def bench_batching(retriever: Retriever, questions: list[str], concurrency: tuple[int, ...] = CONCURRENCY,
                   total: int = QUESTIONS_PER_LEVEL, settings: ServeSettings | None = None,
                   log: Callable[[str], None] = print) -> list[LevelFigures]:
    """Each level of concurrency with (a) one search thread answering one question at a time and (b) the
    Batcher; the same questions in the same order for both."""
    for question in questions[:WARM_UP]:
        retriever.answer(question)
    retriever.answer_many(questions[:WARM_UP])
    figures = []
    with ThreadPoolExecutor(max_workers=1) as one_thread, Batcher(retriever, settings) as batcher:
        paths: dict[str, Callable[[str], Answer]] = {
            "one at a time": lambda q: one_thread.submit(retriever.answer, q).result(),
            "batched": lambda q: batcher.submit(q).result(),
        }
        for askers in concurrency:
            for name, ask in paths.items():
                log(f"[bench-batch] {name}, {askers} concurrent askers")
                level = run_askers(ask, questions, askers, total)
                level.path = name
                figures.append(level)
    return figures


def batch_table(figures: list[LevelFigures], settings: ServeSettings) -> str:
    by_level = {(f.path, f.askers): f for f in figures}
    rows = []
    for askers in dict.fromkeys(f.askers for f in figures):
        single, batched = by_level[("one at a time", askers)], by_level[("batched", askers)]
        rows.append((str(askers), f"{single.questions_per_second}", f"{batched.questions_per_second}",
                     f"{batched.questions_per_second / single.questions_per_second:.1f}x",
                     f"{single.p50_ms} / {single.p99_ms}", f"{batched.p50_ms} / {batched.p99_ms}"))
    machine = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    return (f"machine: {machine}; max_batch {settings.max_batch}, max_wait_ms {settings.max_wait_ms}\n"
            + table(["askers", "one at a time (q/s)", "batched (q/s)", "speed-up", "one at a time p50 / p99 (ms)",
                     "batched p50 / p99 (ms)"], rows))


def to_json(figures: list[LevelFigures]) -> list[dict]:
    return [asdict(f) for f in figures]
