"""`python -m retrieval soak`: thousands of distinct questions through one long-lived Retriever, k from 3 to 100,
so state that grows with use is exercised before users do it → questions, errors, time and memory over the run."""

from __future__ import annotations

import json
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..search.retriever import Retriever

KS = (3, 10, 25, 50, 100)  # cycled: every k a reader or a batch run asks for
CHECKPOINTS = 10  # memory readings over the run, to see it level off
PAGE_BYTES = resource.getpagesize()


@dataclass
class SoakFigures:
    questions: int = 0
    errors: int = 0
    seconds: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    peak_rss_mb: float = 0.0
    rss_checkpoints_mb: list[float] = field(default_factory=list)
    first_error: str = ""

    def table(self) -> str:
        return "\n".join([
            f"questions            {self.questions}",
            f"errors               {self.errors}{'  first: ' + self.first_error if self.first_error else ''}",
            f"time                 {self.seconds:.1f} s ({self.questions / max(self.seconds, 1e-9):.0f} questions/s)",
            f"RSS at start / end   {self.rss_start_mb:.0f} / {self.rss_end_mb:.0f} MB (peak {self.peak_rss_mb:.0f} MB)",
            "RSS over the run     " + " ".join(f"{mb:.0f}" for mb in self.rss_checkpoints_mb),
        ])


def rss_mb() -> float:
    return resident_bytes() / 2**20


def resident_bytes(pid: int | str = "self") -> int:
    """A process's resident memory now (Linux)."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_BYTES


def soak_questions(beir: Path) -> list[str]:
    """Every query of a BEIR folder and every title of its corpus, each once: thousands of distinct questions."""
    seen: dict[str, None] = {}
    for name, key in (("queries.jsonl", "text"), ("corpus.jsonl", "title")):
        with (beir / name).open(encoding="utf-8") as handle:
            for line in handle:
                text = " ".join(str(json.loads(line).get(key) or "").split())
                if text:
                    seen.setdefault(text[:1000])
    return list(seen)


def soak(retriever: Retriever, questions: list[str], progress: Callable[[int], None] = lambda _: None) -> SoakFigures:
    """Answer every question (k cycling through KS) with highlighting, counting what raises instead of stopping."""
    figures = SoakFigures(rss_start_mb=rss_mb())
    every = max(1, len(questions) // CHECKPOINTS)
    start = time.perf_counter()
    for number, question in enumerate(questions):
        try:
            retriever.answer(question, k=KS[number % len(KS)])
        except Exception:  # the point is to count every kind of failure, not only RetrievalError
            figures.errors += 1
            figures.first_error = figures.first_error or traceback.format_exc(limit=1).strip().splitlines()[-1]
        if (number + 1) % every == 0:
            figures.rss_checkpoints_mb.append(rss_mb())
        progress(1)
    figures.questions = len(questions)
    figures.seconds = time.perf_counter() - start
    figures.rss_end_mb = rss_mb()
    figures.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures
