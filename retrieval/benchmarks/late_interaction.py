"""`python -m retrieval.benchmarks.late_interaction`: what late interaction costs per question, in process (a corpus
and its questions in; a table out): each question answered with it off, then on with every passage's token vectors
computed at question time ("cold"), then on again with them remembered ("warm"), alternately, so that all three see
the same load; and what storing every passage's token vectors at build time would take instead."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..config import RetrievalConfig
from ..evaluate.corpora import cached_index, load_questions
from ..evaluate.evaluate import table
from ..loader import open_retriever
from ..search.retriever import Retriever
from .backends import percentile

STORED_BYTES = 2  # a token vector kept at build time would be float16: MaxSim needs no more precision than that
QUESTIONS = 200  # asked per corpus at most: p50 and p95 settle well before that


@dataclass(frozen=True)
class LateCost:
    """One corpus: per-question wall and CPU time (ms) without late interaction, with it cold and warm, and the
    token vectors that storing them at build time would keep."""

    corpus: str
    questions: int
    off_p50: float
    cold_p50: float
    warm_p50: float
    off_p95: float
    cold_p95: float
    warm_p95: float
    off_cpu_p50: float
    cold_cpu_p50: float
    warm_cpu_p50: float
    passages: int
    tokens: int
    stored_mb: float


def measure(retriever: Retriever, name: str, questions: list[str]) -> LateCost:
    off = replace(retriever.settings, late_interaction=False)
    on = replace(retriever.settings, late_interaction=True)
    times: dict[str, list[tuple[float, float]]] = {"off": [], "cold": [], "warm": []}
    retriever.answer(questions[0], settings=on)  # loads what the first question would otherwise pay for
    for question in questions:
        for kind, settings in (("off", off), ("cold", on), ("warm", on)):
            if kind == "cold":
                retriever.late.known.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            retriever.answer(question, settings=settings)
            times[kind].append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
    passages, tokens = stored_tokens(retriever)
    dimension = retriever.encoder.dimension

    def p(kind: str, share: float, which: int = 0) -> float:
        values = [pair[which] for pair in times[kind]]
        return round(statistics.median(values) if share == 0.5 else percentile(values, share), 1)

    return LateCost(name, len(questions), p("off", 0.5), p("cold", 0.5), p("warm", 0.5), p("off", 0.95),
                    p("cold", 0.95), p("warm", 0.95), p("off", 0.5, 1), p("cold", 0.5, 1), p("warm", 0.5, 1),
                    passages, tokens, round(tokens * dimension * STORED_BYTES / 2**20, 1))


def stored_tokens(retriever: Retriever) -> tuple[int, int]:
    """How many passages the index holds, and how many token vectors they have (as the model reads them)."""
    texts = [passage.text for passage in retriever.index.passages_at(list(range(retriever.index.count)))]
    model = retriever.encoder.model
    counts = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
    return len(texts), sum(len(ids) - 2 for ids in counts)  # [CLS] and [SEP] would not be kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", nargs=2, action="append", metavar=("SOURCES", "QUESTIONS"), required=True,
                        help="a corpus (folder or corpus.jsonl, indexed in .cache/ as `eval` does) and a file of "
                        "its questions (gold TOML or .jsonl); repeatable")
    parser.add_argument("--questions", type=int, default=QUESTIONS, help="questions asked per corpus at most")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    costs = []
    for sources, questions in args.set:
        path = Path(sources)
        retriever = open_retriever(RetrievalConfig(sources=path, index=cached_index(path), auto_build="stale"),
                                   sources=path, progress=False)
        asked = [q.q for q in load_questions(Path(questions))][:args.questions]
        costs.append(measure(retriever, path.name, asked))
    if args.json:
        print(json.dumps([asdict(cost) for cost in costs], indent=1))
        return
    header = ["corpus", "questions", "p50 ms off / cold / warm", "p95 ms off / cold / warm",
              "CPU ms p50 off / cold / warm", "passages", "token vectors", "stored (MB, float16)"]
    print(table(header, [(c.corpus, str(c.questions), f"{c.off_p50} / {c.cold_p50} / {c.warm_p50}",
                          f"{c.off_p95} / {c.cold_p95} / {c.warm_p95}",
                          f"{c.off_cpu_p50} / {c.cold_cpu_p50} / {c.warm_cpu_p50}", str(c.passages), str(c.tokens),
                          str(c.stored_mb)) for c in costs]))


if __name__ == "__main__":
    main()
