"""Measure retrieval against a gold file of questions whose answers are named by verbatim snippets."""

from __future__ import annotations

import statistics
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import RetrievalError
from .records import Hit
from .search import Retriever

RANKING_DEPTH = 10
OFF_TOPIC = "off-topic"


@dataclass(frozen=True)
class GoldQuestion:
    """A question and snippets of the passage(s) that answer it; no snippets means the sources do not."""

    q: str
    expect: list[str]
    kind: str

    @property
    def on_topic(self) -> bool:
        return bool(self.expect)

    def answered_by(self, hit: Hit) -> bool:
        return any(snippet in hit.text for snippet in self.expect)


@dataclass(frozen=True)
class GoldReport:
    """Ranking quality on the on-topic questions and how the threshold treats both kinds."""

    questions: int
    on_topic: int
    off_topic: int
    top1: float
    top3: float
    mrr10: float
    on_topic_answered: float  # on-topic questions whose right passage survives the threshold
    off_topic_declined: float  # off-topic questions that get no passage at all
    median_took_ms: float
    misses: list[dict]

    def table(self) -> str:
        rows = [("questions (on-topic / off-topic)", f"{self.questions} ({self.on_topic} / {self.off_topic})"),
                ("top-1 accuracy", pct(self.top1)), ("top-3 accuracy", pct(self.top3)),
                ("MRR@10", f"{self.mrr10:.3f}"),
                ("on-topic: right passage kept by threshold", pct(self.on_topic_answered)),
                ("off-topic: answered 'not covered'", pct(self.off_topic_declined)),
                ("median took_ms", f"{self.median_took_ms:.1f}")]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def pct(value: float) -> str:
    return f"{value:.1%}"


def load_gold(path: Path | str) -> list[GoldQuestion]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        questions = [GoldQuestion(q["q"], list(q.get("expect", [])), q.get("kind", "direct"))
                     for q in data["question"]]
    except FileNotFoundError:
        raise RetrievalError(f"gold file {path} not found") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise RetrievalError(f"{path} is not a gold file ([[question]] tables with `q`, `expect`) ({exc})") from None
    if not questions:
        raise RetrievalError(f"{path} holds no questions")
    return questions


def evaluate_gold(retriever: Retriever, questions: list[GoldQuestion]) -> GoldReport:
    """Rank without a threshold for top-k and MRR; apply the configured threshold for the answer rates."""
    ranks, kept, declined, took, misses = [], [], [], [], []
    for question in questions:
        answer = retriever.answer(question.q, k=RANKING_DEPTH, min_score=-1.0)
        took.append(answer.took_ms)
        passing = [h for h in answer.hits if h.score >= retriever.min_score]
        if not question.on_topic:
            declined.append(not passing)
            continue
        rank = next((h.rank for h in answer.hits if question.answered_by(h)), None)
        ranks.append(rank)
        kept.append(any(question.answered_by(h) for h in passing))
        if rank != 1:
            top = answer.hits[0]
            misses.append({"q": question.q, "rank": rank, "top": top.citation, "top_score": round(top.score, 3)})
    return GoldReport(
        questions=len(questions), on_topic=len(ranks), off_topic=len(declined),
        top1=share(r == 1 for r in ranks), top3=share(r is not None and r <= 3 for r in ranks),
        mrr10=sum(1 / r for r in ranks if r) / max(len(ranks), 1),
        on_topic_answered=share(kept), off_topic_declined=share(declined),
        median_took_ms=statistics.median(took), misses=misses,
    )


def share(flags) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0
