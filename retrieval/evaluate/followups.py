"""Follow-up pairs (a question, a follow-up, snippets of the passage answering the follow-up) in; how often
the right passage is found when the follow-up is searched alone, joined to its question, and as the bot does."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import RetrievalError
from ..search.followup import answer_followup
from ..search.retriever import Answer, Retriever

RANK_DEPTH = 10  # ranks beyond this count as not found


@dataclass(frozen=True)
class FollowUp:
    previous: str
    question: str
    expect: list[str]


@dataclass(frozen=True)
class FollowUpReport:
    """One way of searching follow-ups: right passage first, in the top 3, and among the passages shown."""

    method: str
    questions: int
    top1: float
    top3: float
    shown: float

    def to_dict(self) -> dict:
        return {"method": self.method, "questions": self.questions, "top1": round(self.top1, 4),
                "top3": round(self.top3, 4), "right_shown": round(self.shown, 4)}


def load_followups(path: Path) -> list[FollowUp]:
    try:
        tables = tomllib.loads(Path(path).read_text(encoding="utf-8"))["followup"]
        return [FollowUp(t["previous"], t["q"], list(t["expect"])) for t in tables]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise RetrievalError(f"{path} is not a follow-up file ([[followup]] tables with `previous`, `q`, "
                             f"`expect`) ({exc})") from None


def evaluate_followups(retriever: Retriever, pairs: list[FollowUp]) -> list[FollowUpReport]:
    """The follow-ups searched alone, joined to their question, and as `answer_followup` does."""
    methods: dict[str, Callable[[FollowUp], str]] = {"alone": lambda p: p.question,
                                                      "joined": lambda p: f"{p.previous} {p.question}"}
    reports = [measure(retriever, pairs, name, text) for name, text in methods.items()]
    shown = [right(answer_followup(retriever, p.question, p.previous), p) for p in pairs]
    reports.append(FollowUpReport("alone, else joined (the bot)", len(pairs), float("nan"), float("nan"),
                                  sum(shown) / len(pairs)))
    return reports


def measure(retriever: Retriever, pairs: list[FollowUp], method: str,
            text: Callable[[FollowUp], str]) -> FollowUpReport:
    ranks = [rank(retriever.answer(text(p), RANK_DEPTH, gate=False), p) for p in pairs]
    shown = [right(retriever.answer(text(p)), p) for p in pairs]
    return FollowUpReport(method, len(pairs), sum(r == 1 for r in ranks) / len(pairs),
                          sum(r is not None and r <= 3 for r in ranks) / len(pairs), sum(shown) / len(pairs))


def rank(answer: Answer, pair: FollowUp) -> int | None:
    return next((n for n, hit in enumerate(answer.hits, start=1) if any(s in hit.text for s in pair.expect)), None)


def right(answer: Answer, pair: FollowUp) -> bool:
    return rank(answer, pair) is not None


def followup_table(reports: list[FollowUpReport]) -> str:
    def cell(value: float) -> str:
        return "—" if value != value else f"{value:.1%}"  # NaN: not measured for this method
    lines = [f"{'method':<30} {'top-1':>7} {'top-3':>7} {'right passage shown':>20}"]
    lines += [f"{r.method:<30} {cell(r.top1):>7} {cell(r.top3):>7} {cell(r.shown):>20}" for r in reports]
    return "\n".join(lines)
