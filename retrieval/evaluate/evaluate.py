"""Measure retrieval: on a BEIR dataset (nDCG, recall, MRR) and on a gold file of questions with snippets."""

from __future__ import annotations

import csv
import json
import statistics
import tomllib
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path

from ..errors import QueryError, RetrievalError
from ..records import Hit
from ..search.coverage import LIKELY
from ..search.retriever import Answer, Retriever
from ..settings import SearchSettings
from . import metrics

RANKING_DEPTH = 10
BEIR_DEPTH = 100
RECALL_CUTOFFS = (1, 3, 10, 100)
GOLD_NAME = "gold.toml"  # a corpus's own gold questions, beside its documents (seeds/gold.toml)


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


def load_question_set(folder: Path, off_topic: Path | None = None) -> list[GoldQuestion]:
    """The questions of a folder laid out like ../shared/data/squad-dev (questions.jsonl: `q` and `expect`, the
    start of the answering paragraph), plus off-topic questions from a .jsonl of `q` or BEIR `text` records."""
    questions = [GoldQuestion(r["q"], list(r["expect"]), "squad") for r in read_jsonl(folder / "questions.jsonl")]
    if off_topic is not None:
        questions += [GoldQuestion(r.get("q") or r["text"], [], "off-topic") for r in read_jsonl(off_topic)]
    return questions


def read_jsonl(path: Path) -> list[dict]:
    try:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        raise RetrievalError(f"{path} not found") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RetrievalError(f"{path} is not JSON lines ({exc})") from None


@dataclass(frozen=True)
class GoldReport:
    """Ranking quality on the on-topic questions, and what an answer shows for both kinds, for one mode."""

    mode: str
    questions: int
    on_topic: int
    off_topic: int
    top1: float
    top3: float
    mrr10: float
    on_topic_answered: float  # on-topic questions whose answer shows anything
    on_topic_kept: float  # on-topic questions answered, with the right passage in the top ten ranks
    on_topic_shown: float  # on-topic questions whose answer shows the right passage
    mean_shown: float  # passages shown per answered on-topic question
    off_topic_declined: float  # off-topic questions answered "not covered"
    likely_answers: int  # answers whose first passage is labelled "likely answers", of any question
    likely_right: float  # of those, the share whose first passage answers the question
    median_took_ms: float
    misses: list[dict]
    reliability: list[Bucket]  # every passage shown, by its relevance: predicted against observed


@dataclass(frozen=True)
class Bucket:
    """The passages shown whose relevance fell in [low, high): how many, their mean relevance, and the share
    of them that answer their question."""

    low: float
    high: float
    passages: int
    predicted: float
    observed: float


RELIABILITY_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0000001)


def reliability(shown: list[tuple[float, bool]]) -> list[Bucket]:
    buckets = []
    for low, high in pairwise(RELIABILITY_EDGES):
        inside = [(p, right) for p, right in shown if low <= p < high]
        if inside:
            buckets.append(Bucket(low, min(high, 1.0), len(inside), statistics.fmean(p for p, _ in inside),
                                  share(right for _, right in inside)))
    return buckets


@dataclass(frozen=True)
class BeirReport:
    """Mean metrics over a BEIR split's queries, for one mode."""

    mode: str
    queries: int
    ndcg10: float
    mrr10: float
    recall: dict[int, float]


def default_gold(sources: Path) -> Path:
    """The gold file kept beside a corpus's documents; RetrievalError saying to pass --gold when there is none."""
    path = (sources.parent if sources.is_file() else sources) / GOLD_NAME
    if not path.is_file():
        raise RetrievalError(f"no gold file: {path} does not exist; pass --gold FILE")
    return path


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


def evaluate_gold(retriever: Retriever, questions: list[GoldQuestion],
                  settings: SearchSettings | None = None) -> GoldReport:
    """Rank without the gate for top-k and MRR; answer as a reader is answered for what is shown."""
    settings = settings or retriever.settings
    ranks, answered, kept, right_shown, shown, declined, took, misses = [], [], [], [], [], [], [], []
    likely, judged = [], []
    for question in questions:
        try:
            answer = retriever.answer(question.q, settings=settings, highlight=False)
        except QueryError:  # not searched (in a language the model cannot read): nothing shown
            answer = Answer(question.q, [], 0.0, settings, settings.top_k)
        took.append(answer.took_ms)
        judged += [(hit.relevance, question.answered_by(hit)) for hit in answer.hits]
        if answer.hits and answer.hits[0].relevance >= LIKELY:
            likely.append(question.answered_by(answer.hits[0]))
        if not question.on_topic:
            declined.append(not answer.hits)
            continue
        ranked = retriever.answer(question.q, k=RANKING_DEPTH, settings=settings, highlight=False, gate=False)
        rank = next((h.rank for h in ranked.hits if question.answered_by(h)), None)
        ranks.append(rank)
        answered.append(bool(answer.hits))
        kept.append(bool(answer.hits) and rank is not None)
        right_shown.append(any(question.answered_by(h) for h in answer.hits))
        if answer.hits:
            shown.append(len(answer.hits))
        if rank != 1:
            top = ranked.hits[0]
            misses.append({"q": question.q, "rank": rank, "top": top.citation,
                           "top_relevance": round(top.relevance, 3)})
    return GoldReport(
        mode=settings.mode, questions=len(questions), on_topic=len(ranks), off_topic=len(declined),
        top1=share(r == 1 for r in ranks), top3=share(r is not None and r <= 3 for r in ranks),
        mrr10=sum(1 / r for r in ranks if r) / max(len(ranks), 1),
        on_topic_answered=share(answered), on_topic_kept=share(kept), on_topic_shown=share(right_shown),
        mean_shown=statistics.fmean(shown) if shown else 0.0, off_topic_declined=share(declined),
        likely_answers=len(likely), likely_right=share(likely), median_took_ms=statistics.median(took),
        misses=misses, reliability=reliability(judged),
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
                  settings: SearchSettings | None = None) -> BeirReport:
    ndcg, mrr, recall = [], [], {cut: [] for cut in RECALL_CUTOFFS}
    for query_id, relevant in qrels.items():
        ranked = retriever.ranked_sources(queries[query_id], BEIR_DEPTH, settings)
        ndcg.append(metrics.ndcg(ranked, relevant, 10))
        mrr.append(metrics.mrr(ranked, relevant, 10))
        for cut in RECALL_CUTOFFS:
            recall[cut].append(metrics.recall(ranked, relevant, cut))
    return BeirReport((settings or retriever.settings).mode, len(qrels), statistics.fmean(ndcg), statistics.fmean(mrr),
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
            ("on-topic: answered", [pct(r.on_topic_answered) for r in reports]),
            ("on-topic: right passage kept by the gate", [pct(r.on_topic_kept) for r in reports]),
            ("on-topic: right passage shown", [pct(r.on_topic_shown) for r in reports]),
            ("passages shown per answer", [f"{r.mean_shown:.2f}" for r in reports]),
            ("off-topic: 'not covered'", [pct(r.off_topic_declined) for r in reports]),
            ("'likely answers': first passage right", [f"{pct(r.likely_right)} of {r.likely_answers}"
                                                       for r in reports]),
            ("median took_ms", [f"{r.median_took_ms:.1f}" for r in reports])]
    heading = f"{first.questions} questions ({first.on_topic} on-topic, {first.off_topic} off-topic)"
    return (heading + "\n" + table(["metric", *(r.mode for r in reports)], [(n, *v) for n, v in rows]) + "\n\n"
            + reliability_table(first))


def reliability_table(report: GoldReport) -> str:
    """The first mode's passages shown, by relevance: is a passage shown at 0.7 right 70% of the time?"""
    rows = [(f"{b.low:.1f} to {b.high:.1f}", str(b.passages), f"{b.predicted:.2f}", f"{b.observed:.2f}")
            for b in report.reliability]
    return f"relevance of the passages shown ({report.mode}): predicted against observed\n" + table(
        ["relevance", "passages", "mean relevance", "share right"], rows)


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

