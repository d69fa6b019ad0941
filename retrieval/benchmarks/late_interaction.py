"""`python -m retrieval.benchmarks.late_interaction`: what late interaction costs per question, in process (a corpus
and its questions in; a table out): each question answered with it off, then on with the passages' token vectors
the index kept ("kept"), then on with them read by the model at question time as for an index that kept none
("cold"), then on again with those remembered ("warm"), in turn, so that all four see the same load; and what
the kept token vectors take."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass, replace

from ..evaluate.corpora import add_corpus_sets, corpus_sets
from ..evaluate.evaluate import table
from ..search.retriever import Retriever
from ..store.index import CURRENT
from ..store.tokens import TOKEN_FILES
from .backends import percentile

QUESTIONS = 200  # asked per corpus at most: p50 and p95 settle well before that


@dataclass(frozen=True)
class LateCost:
    """One corpus: per-question wall and CPU time (ms) without late interaction, with the index's token vectors,
    with them read at question time (cold) and remembered (warm); and the token vectors the index keeps."""

    corpus: str
    questions: int
    off_p50: float
    kept_p50: float
    cold_p50: float
    warm_p50: float
    off_p95: float
    kept_p95: float
    cold_p95: float
    warm_p95: float
    off_cpu_p50: float
    kept_cpu_p50: float
    passages: int
    tokens: int
    stored_mb: float


class KeptNone:
    """An index as one that kept no token vectors: late interaction reads its passages with the model."""

    def __init__(self, index) -> None:
        self.index = index

    def __getattr__(self, name: str):
        return getattr(self.index, name)

    def token_vectors_of(self, rows) -> list[None]:
        return [None] * len(rows)

    def token_sentences_of(self, rows) -> list[None]:
        return [None] * len(rows)


def measure(retriever: Retriever, name: str, questions: list[str]) -> LateCost:
    off = replace(retriever.settings, late_interaction=False)
    on = replace(retriever.settings, late_interaction=True)
    reading = retriever.over(KeptNone(retriever.index))
    times: dict[str, list[tuple[float, float]]] = {"off": [], "kept": [], "cold": [], "warm": []}
    retriever.answer(questions[0], settings=on)  # loads what the first question would otherwise pay for
    reading.answer(questions[0], settings=on)
    for question in questions:
        for kind, asked, settings in (("off", retriever, off), ("kept", retriever, on), ("cold", reading, on),
                                      ("warm", reading, on)):
            if kind == "cold":
                reading.late.known.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            asked.answer(question, settings=settings)
            times[kind].append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
    passages, tokens = stored_tokens(retriever)

    def p(kind: str, share: float, which: int = 0) -> float:
        values = [pair[which] for pair in times[kind]]
        return round(statistics.median(values) if share == 0.5 else percentile(values, share), 1)

    return LateCost(name, len(questions), p("off", 0.5), p("kept", 0.5), p("cold", 0.5), p("warm", 0.5),
                    p("off", 0.95), p("kept", 0.95), p("cold", 0.95), p("warm", 0.95), p("off", 0.5, 1),
                    p("kept", 0.5, 1), passages, tokens, round(stored_bytes(retriever) / 2**20, 1))


def stored_tokens(retriever: Retriever) -> tuple[int, int]:
    """How many passages the index holds, and how many token vectors it keeps of them."""
    kept = retriever.index.token_vectors_of(list(range(retriever.index.count)))
    return len(kept), sum(len(tokens) for tokens in kept if tokens is not None)


def stored_bytes(retriever: Retriever) -> int:
    """What the index's token vector files take on disk (0 when it kept none)."""
    build = retriever.index.path / CURRENT
    return sum((build / name).stat().st_size for name in TOKEN_FILES if (build / name).is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_corpus_sets(parser)
    parser.add_argument("--questions", type=int, default=QUESTIONS, help="questions asked per corpus at most")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    costs = [measure(retriever, path.name, [q.q for q in questions][:args.questions])
             for path, retriever, questions in corpus_sets(args.set)]
    if args.json:
        print(json.dumps([asdict(cost) for cost in costs], indent=1))
        return
    header = ["corpus", "questions", "p50 ms off / kept / cold / warm", "p95 ms off / kept / cold / warm",
              "CPU ms p50 off / kept", "passages", "token vectors kept", "on disk (MB)"]
    print(table(header, [(c.corpus, str(c.questions), f"{c.off_p50} / {c.kept_p50} / {c.cold_p50} / {c.warm_p50}",
                          f"{c.off_p95} / {c.kept_p95} / {c.cold_p95} / {c.warm_p95}",
                          f"{c.off_cpu_p50} / {c.kept_cpu_p50}", str(c.passages), str(c.tokens),
                          str(c.stored_mb)) for c in costs]))


if __name__ == "__main__":
    main()
