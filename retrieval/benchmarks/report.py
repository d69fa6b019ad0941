"""`python -m retrieval.benchmarks.report`: how long the question report (`/report`, `eval --feedback`) takes
over question logs of growing size, synthetic ones in a SQLite file written as the bot writes it (free questions
drawn by Zipf's law, and questions from one template); a table out."""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..questions.log import SCHEMA
from ..questions.report import report_from_file
from .soak import rss_mb

SIZES = (10_000, 100_000)
VOCABULARY = 20_000  # distinct words; drawn by Zipf's law, as words in real questions are
QUESTION_WORDS = ("who", "what", "when", "where", "why", "how", "how many", "which")
REPEATED = 0.35  # share of questions that are another's near-duplicate (a word added or dropped, case, punctuation)
NOT_COVERED = 0.3
DAY = 86400


def vocabulary(rng: random.Random, size: int = VOCABULARY) -> list[str]:
    """Pronounceable made-up words, so that stemming treats them as words."""
    syllables = [c + v for c in "bcdfgklmnprstvz" for v in "aeiou"]
    made: dict[str, None] = {}
    while len(made) < size:
        made["".join(rng.choices(syllables, k=rng.randint(2, 4)))] = None
    return list(made)


def synthetic_questions(count: int, seed: int = 0) -> Iterator[str]:
    """`count` questions, some asked again in other words, all reproducible from `seed`."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))
    asked: list[list[str]] = []
    for _ in range(count):
        if asked and rng.random() < REPEATED:
            question = list(rng.choice(asked))
            change = rng.randrange(3)
            if change == 0:
                question.append(rng.choices(words, cum_weights=weights)[0])
            elif change == 1 and len(question) > 3:
                question.pop(rng.randrange(1, len(question)))
            text = " ".join(question)
            yield text.lower() if change == 2 else text.capitalize() + "?"
        else:
            question = [rng.choice(QUESTION_WORDS), *rng.choices(words, cum_weights=weights, k=rng.randint(2, 8))]
            asked.append(question)
            yield " ".join(question).capitalize() + "?"


def templated_questions(count: int, seed: int = 0) -> Iterator[str]:
    """`count` questions from one template with an order and a customer number each: alike in every common word,
    yet near-duplicates only where a number comes again (two of the six words differ)."""
    rng = random.Random(seed)
    for _ in range(count):
        yield f"What is the status of order {rng.randrange(10**5, 10**6)} for customer {rng.randrange(10**6, 10**7)}?"


KINDS = {"zipf": synthetic_questions, "template": templated_questions}


def write_log(path: Path, count: int, seed: int = 0, now: float | None = None, kind: str = "zipf") -> None:
    """A question log of `count` questions over the last 30 days, as the bot's vote store writes it."""
    now = time.time() if now is None else now
    rng = random.Random(seed)
    covered = json.dumps([{"source_id": "park-hero", "paragraph": 8, "citation": "[Robert Park, ¶8]"}])
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    with db:
        db.executemany("INSERT INTO answers (asked_at, question, passages, guild_id, channel_id) "
                       "VALUES (?, ?, ?, ?, ?)",
                       ((now - rng.random() * 30 * DAY, question, "[]" if rng.random() < NOT_COVERED else covered,
                         1, 2) for question in KINDS[kind](count, seed)))
    db.close()


def bench(sizes: tuple[int, ...] = SIZES, kinds: tuple[str, ...] = tuple(KINDS)) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="report-bench-") as folder:
        for kind, size in itertools.product(kinds, sizes):
            log = Path(folder) / f"log-{kind}-{size}.sqlite"
            write_log(log, size, kind=kind)
            start, cpu = time.perf_counter(), time.process_time()
            found = report_from_file(log, days=30)
            made, made_cpu = time.perf_counter() - start, time.process_time() - cpu
            start = time.perf_counter()
            found.csv()
            written = time.perf_counter() - start
            rows.append({"log": kind, "questions": size, "report_s": made, "report_cpu_s": made_cpu, "csv_s": written,
                         "rss_mb": rss_mb(),
                         "most_asked_top": found.most_asked[0].times if found.most_asked else 0})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m retrieval.benchmarks.report", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), metavar="N")
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    args = parser.parse_args(argv)
    print(f"{'log':>8}  {'questions':>10}  {'report (read + group)':>22}  {'of it CPU':>10}  {'report.csv':>10}  "
          f"{'RSS':>8}")
    for row in bench(tuple(args.sizes), tuple(args.kinds)):
        print(f"{row['log']:>8}  {row['questions']:>10,}  {row['report_s']:>20.2f} s  {row['report_cpu_s']:>8.2f} s  "
              f"{row['csv_s']:>8.2f} s  {row['rss_mb']:>5.0f} MB")


if __name__ == "__main__":
    main()
