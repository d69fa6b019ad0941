"""`eval --formats DIR`: a question set's plain-text articles written as PDF, web page, Word and Markdown
(writers.py), each indexed and asked the same questions; out come top-1/top-3/answered per format beside the
plain text, and how each question's answering paragraph was found among each format's passages."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import RetrievalError
from ..records import Hit, Passage
from ..search.retriever import Retriever
from ..settings import SearchSettings
from .evaluate import GoldReport, evaluate_gold, load_question_set, pct, share, table
from .writers import Article, read_articles, write_docx, write_html, write_markdown, write_pdf

PLAIN = "txt"
FORMATS = ("pdf", "html", "docx", "md")  # written from the plain text, in this order beside it
SUFFIXES = {"pdf": ".pdf", "html": ".html", "docx": ".docx", "md": ".md"}
START_CHARS = 80  # how much of a paragraph's start the question set's `expect` gives (squad-dev/SOURCE.txt)
# How a format kept a gold paragraph: as one passage of its own, inside a passage with other text (merged with
# a neighbour, or chrome glued on), cut into passages, or not at all.
KEPT = ("whole", "with other text", "in pieces", "lost")
LOOSE = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class MappedQuestion:
    """A question and the passages of one format that hold its answering paragraph's text."""

    q: str
    gold: frozenset[tuple[str, int, int]]  # (source id, paragraph, part)

    @property
    def on_topic(self) -> bool:
        return True

    def answered_by(self, hit: Hit) -> bool:
        return key(hit.passage) in self.gold


@dataclass(frozen=True)
class FormatReport:
    """One format's ranking quality and how its passages kept the question set's answering paragraphs."""

    name: str
    report: GoldReport
    kept: dict[str, int]  # paragraphs per KEPT outcome
    loose: int  # paragraphs found only with punctuation and spacing set aside (a hyphen lost or gained)
    unmapped_questions: int
    paged: float  # share of the answerable passages that know their page, which their citations then name


def key(passage: Passage) -> tuple[str, int, int]:
    return passage.source_id, passage.paragraph, passage.part


def normal(text: str) -> str:
    return " ".join(text.split())


def loose(text: str) -> str:
    """Letters and digits only, case folded: text compared across a rejoined hyphen or a changed space."""
    return LOOSE.sub("", text).casefold()


def find_paragraph(paragraphs: list[str], start: str) -> str:
    """The paragraph of the plain text a question's `expect` snippet starts (or is in)."""
    start = normal(start)
    found = [p for p in paragraphs if p.startswith(start)] or [p for p in paragraphs if start in p]
    if not found:
        raise RetrievalError(f"no paragraph of the articles holds {start!r}")
    return found[0]


def holding(paragraph: str, passages: list[Passage]) -> tuple[str, list[Passage], bool]:
    """The passages holding the paragraph's text and how (one of KEPT): equal to it, containing it, or pieces
    of it (a passage within it, or one that overlaps its start or end); first with white space made single,
    then, if nothing is found, with only letters and digits compared (the third value says so)."""
    for squash, is_loose in ((normal, False), (loose, True)):
        whole = squash(paragraph)
        texts = [(p, squash(p.text)) for p in passages]
        if same := [p for p, t in texts if t == whole]:
            return "whole", same, is_loose
        if wider := [p for p, t in texts if whole in t]:
            return "with other text", wider, is_loose
        head, tail = whole[:START_CHARS], whole[-START_CHARS:]
        if pieces := [p for p, t in texts if t and (t in whole or head in t or tail in t
                                                     or t[:START_CHARS] in whole or t[-START_CHARS:] in whole)]:
            return "in pieces", pieces, is_loose
    return "lost", [], False


def write_formats(articles: list[Article], folder: Path, font: Path | None) -> dict[str, Path]:
    """Each format's folder under `folder`, holding every article in it and nothing else; rewritten each time
    with the same text and metadata, so that an index of it stays fresh."""
    folders = {}
    for name in FORMATS:
        target = folder / name
        target.mkdir(parents=True, exist_ok=True)
        for old in target.iterdir():  # an article no longer in the set must not stay in the corpus
            old.unlink()
        for article in articles:
            path = target / f"{article.name}{SUFFIXES[name]}"
            if name == "pdf":
                write_pdf(article, path, font)
            elif name == "html":
                write_html(article, path)
            elif name == "docx":
                write_docx(article, path)
            else:
                write_markdown(article, path)
        folders[name] = target
    return folders


def evaluate_formats(question_set: Path, folders: dict[str, Path], open_index: Callable[[Path], Retriever],
                     settings: SearchSettings | None = None) -> list[FormatReport]:
    """Ask the question set of the plain text (question_set/docs) and of each folder, each question counted
    right when a hit is one of the passages holding its answering paragraph in that folder (never, when the
    folder lost that paragraph)."""
    questions = load_question_set(question_set)
    paragraphs = [p for article in read_articles(question_set / "docs") for p in article.paragraphs]
    answers = [find_paragraph(paragraphs, q.expect[0]) for q in questions]
    reports = []
    for name, folder in {PLAIN: question_set / "docs", **folders}.items():
        retriever = open_index(folder)
        passages = [p for source in retriever.sources for p in retriever.passages_of(source) if p.answerable]
        found = {paragraph: holding(paragraph, passages) for paragraph in dict.fromkeys(answers)}
        mapped = [MappedQuestion(q.q, frozenset(key(p) for p in found[a][1])) for q, a in zip(questions, answers,
                                                                                              strict=True)]
        reports.append(FormatReport(
            name, evaluate_gold(retriever, mapped, settings),
            dict(Counter(kept for kept, _, _ in found.values())), sum(is_loose for *_, is_loose in found.values()),
            sum(not q.gold for q in mapped), share(p.page is not None for p in passages)))
    return reports


def formats_table(reports: list[FormatReport]) -> str:
    """Top-1/top-3/answered per format beside the plain text, and how each kept the answering paragraphs."""
    plain = reports[0].report
    rows = [("top-1 accuracy", [pct(r.report.top1) for r in reports]),
            ("top-3 accuracy", [pct(r.report.top3) for r in reports]),
            ("top-3 vs plain text (points)", [f"{100 * (r.report.top3 - plain.top3):+.1f}" for r in reports]),
            ("MRR@10", [f"{r.report.mrr10:.3f}" for r in reports]),
            ("on-topic: answered", [pct(r.report.on_topic_answered) for r in reports]),
            ("on-topic: right passage shown", [pct(r.report.on_topic_shown) for r in reports]),
            ("questions with no passage holding their answer", [str(r.unmapped_questions) for r in reports]),
            *((f"answering paragraphs: {kept}", [str(r.kept.get(kept, 0)) for r in reports]) for kept in KEPT),
            ("  of them matched loosely", [str(r.loose) for r in reports]),
            ("passages citing their page (p. N)", [pct(r.paged) for r in reports])]
    heading = (f"{sum(reports[0].kept.values())} answering paragraphs, {plain.on_topic} questions; "
               f"mode {plain.mode}")
    return heading + "\n" + table(["metric", *(r.name for r in reports)], [(n, *v) for n, v in rows])
