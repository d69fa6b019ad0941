"""`python -m retrieval.benchmarks.stages`: what each stage of the answer path costs, in process (corpora and their
questions in; a table out): every question answered alone, one stage after another as `Retriever.answer` runs them
(search/retriever.py, `_STAGES`), each stage's wall time recorded; p50 and p95 per stage, and of the whole."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict

from ..evaluate.calibrate import searchable
from ..evaluate.corpora import add_corpus_sets, corpus_sets
from ..evaluate.evaluate import table
from ..search.retriever import _STAGES, Retriever, _Question
from .backends import percentile

QUESTIONS = 200  # asked per corpus at most: p50 and p95 settle well before that
WARM_UP = 3  # questions answered first and not counted: the first loads what the rest reuse


CHECKS = "(checks)"  # cleaning the question and the language check, before any stage


def timed(retriever: Retriever, question: str) -> dict[str, float]:
    """One question through every stage: each stage's wall time in ms, by its name."""
    settings = retriever.settings
    start = time.perf_counter()
    query, k = retriever.checked(question, None, settings)
    times = {CHECKS: (time.perf_counter() - start) * 1000}
    asked = [_Question(query, k, settings, True, True)]
    for stage in _STAGES:
        start = time.perf_counter()
        asked = stage(retriever, asked)
        times[stage.__name__] = (time.perf_counter() - start) * 1000
    return times


def measure(retriever: Retriever, questions: list[str]) -> dict[str, list[float]]:
    """Each stage's times (ms), one per question, and the whole's (`total`)."""
    for question in questions[:WARM_UP]:
        timed(retriever, question)
    times: dict[str, list[float]] = defaultdict(list)
    for question in questions:
        each = timed(retriever, question)
        for name, ms in each.items():
            times[name].append(ms)
        times["total"].append(sum(each.values()))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_sets(parser)
    parser.add_argument("--questions", type=int, default=QUESTIONS, help="questions asked per corpus at most")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {path.name: measure(retriever, [q.q for q in questions if searchable(retriever, q.q)][:args.questions])
               for path, retriever, questions in corpus_sets(args.set)}
    summary = {corpus: {name: {"p50": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2)}
                        for name, values in times.items()} for corpus, times in results.items()}
    if args.json:
        print(json.dumps(summary, indent=1))
        return
    corpora = list(summary)
    header = ["stage", *(f"{corpus} p50 / p95 ms" for corpus in corpora)]
    names = [CHECKS, *(stage.__name__ for stage in _STAGES), "total"]
    print(table(header, [(name, *(f"{summary[c][name]['p50']} / {summary[c][name]['p95']}" for c in corpora))
                         for name in names]))


if __name__ == "__main__":
    main()
