"""Measure retrieval: on a BEIR dataset (nDCG, recall, MRR) and on a gold file of questions with snippets."""

from __future__ import annotations

import csv
import json
import statistics
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from . import metrics
from .errors import RetrievalError
from .records import Hit
from .search import Retriever

RANKING_DEPTH = 10
BEIR_DEPTH = 100
RECALL_CUTOFFS = (1, 3, 10, 100)


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
    """Ranking quality on the on-topic questions and how the threshold treats both kinds, for one mode."""

    mode: str
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


@dataclass(frozen=True)
class BeirReport:
    """Mean metrics over a BEIR split's queries, for one mode."""

    mode: str
    queries: int
    ndcg10: float
    mrr10: float
    recall: dict[int, float]


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


def evaluate_gold(retriever: Retriever, questions: list[GoldQuestion], mode: str | None = None) -> GoldReport:
    """Rank without a threshold for top-k and MRR; apply the configured threshold for the answer rates."""
    ranks, kept, declined, took, misses = [], [], [], [], []
    for question in questions:
        answer = retriever.answer(question.q, k=RANKING_DEPTH, min_score=-1.0, mode=mode, highlight=False)
        took.append(answer.took_ms)
        passing = [h for h in answer.hits if h.cosine >= retriever.min_score]
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
        mode=mode or retriever.mode, questions=len(questions), on_topic=len(ranks), off_topic=len(declined),
        top1=share(r == 1 for r in ranks), top3=share(r is not None and r <= 3 for r in ranks),
        mrr10=sum(1 / r for r in ranks if r) / max(len(ranks), 1),
        on_topic_answered=share(kept), off_topic_declined=share(declined),
        median_took_ms=statistics.median(took), misses=misses,
    )


def load_beir(folder: Path, split: str) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """The queries and the qrels of one split of a BEIR dataset folder (queries.jsonl, qrels/SPLIT.tsv)."""
    qrels_file, queries_file = folder / "qrels" / f"{split}.tsv", folder / "queries.jsonl"
    if not qrels_file.is_file() or not queries_file.is_file():
        raise RetrievalError(f"{folder} is not a BEIR dataset with queries.jsonl and qrels/{split}.tsv")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_file.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    with queries_file.open(encoding="utf-8") as handle:
        queries = {str(q["_id"]): q["text"] for q in map(json.loads, handle) if str(q["_id"]) in qrels}
    return queries, qrels


def evaluate_beir(retriever: Retriever, queries: dict[str, str], qrels: dict[str, dict[str, int]],
                  mode: str | None = None) -> BeirReport:
    ndcg, mrr, recall = [], [], {cut: [] for cut in RECALL_CUTOFFS}
    for query_id, relevant in qrels.items():
        ranked = retriever.ranked_sources(queries[query_id], BEIR_DEPTH, mode)
        ndcg.append(metrics.ndcg(ranked, relevant, 10))
        mrr.append(metrics.mrr(ranked, relevant, 10))
        for cut in RECALL_CUTOFFS:
            recall[cut].append(metrics.recall(ranked, relevant, cut))
    return BeirReport(mode or retriever.mode, len(qrels), statistics.fmean(ndcg), statistics.fmean(mrr),
                      {cut: statistics.fmean(values) for cut, values in recall.items()})


def beir_table(reports: list[BeirReport]) -> str:
    rows = [("nDCG@10", [r.ndcg10 for r in reports]), ("MRR@10", [r.mrr10 for r in reports])]
    rows += [(f"Recall@{cut}", [r.recall[cut] for r in reports]) for cut in RECALL_CUTOFFS]
    return table(["metric", *(r.mode for r in reports)], [(name, *(f"{v:.4f}" for v in values))
                                                          for name, values in rows])


def gold_table(reports: list[GoldReport]) -> str:
    first = reports[0]
    rows = [("top-1 accuracy", [pct(r.top1) for r in reports]), ("top-3 accuracy", [pct(r.top3) for r in reports]),
            ("MRR@10", [f"{r.mrr10:.3f}" for r in reports]),
            ("on-topic: right passage kept", [pct(r.on_topic_answered) for r in reports]),
            ("off-topic: 'not covered'", [pct(r.off_topic_declined) for r in reports]),
            ("median took_ms", [f"{r.median_took_ms:.1f}" for r in reports])]
    heading = f"{first.questions} questions ({first.on_topic} on-topic, {first.off_topic} off-topic)"
    return heading + "\n" + table(["metric", *(r.mode for r in reports)], [(n, *v) for n, v in rows])


def table(header: list[str], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def to_json(reports: list) -> list[dict]:
    return [asdict(report) for report in reports]


def pct(value: float) -> str:
    return f"{value:.1%}"


def share(flags) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0

