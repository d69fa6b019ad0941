"""The `search` command: questions from the command line, a file or standard input in; cited passages out, as text
for a reader or one JSON line a question for scripts."""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar

from ..config import RetrievalConfig
from ..errors import RetrievalError
from ..search.retriever import Answer, Retriever, clean_question
from ..search.utf8 import check_utf8, printable
from ..settings import MODES, SearchSettings
from .common import DEFAULTS, SharedOptions, opened, settings_from
from .program import program
from .render import MARK_OFF, MARK_ON, PLAIN_MARKS, render

T = TypeVar("T")
EXIT_ERROR = 1
LOG = logging.getLogger(__name__)


def add_commands(commands: argparse._SubParsersAction, shared: SharedOptions) -> None:
    search = commands.add_parser("search", parents=[shared.index, shared.as_json, shared.gate],
                                 help="answer questions with cited passages",
                                 description="Print the passages closest to each question, best first, with "
                                 "citations. With --file (or piped input) every line is a question and every "
                                 "answer one JSON line; --json prints {query, took_ms, covered, relevance, results: "
                                 "[...]}. The configured index is built on first use.")
    search.add_argument("question", nargs="*", help="the question (quote it)")
    search.add_argument("-k", type=int, help=f"how many passages at most (default from config: {DEFAULTS.top_k})")
    search.add_argument("--file", help="read questions from this file, one a line ('-' for stdin); a .jsonl "
                        "file holds BEIR queries with `_id` and `text`")
    search.add_argument("--sources", type=Path, help="the sources the index must match (default: the ones it "
                        "was built from; the config's `sources` are what a first build reads)")
    search.add_argument("--all", action="store_true", help="the top k as ranked, with no 'covered?' decision and "
                        "no margin (for scoring a benchmark)")
    search.add_argument("--rebuild", action="store_true", help="rebuild the index first if it is missing or stale")
    search.add_argument("--mode", choices=MODES, help="ranking: hybrid (dense + BM25), dense or lexical "
                        "(default from config: hybrid)")
    search.add_argument("--context", type=int, default=0, metavar="N",
                        help="also print the N paragraphs before and after each passage")
    search.set_defaults(run=run_search)


def run_search(args: argparse.Namespace, config: RetrievalConfig) -> int:
    batch = args.file is not None or (not args.question and not sys.stdin.isatty())
    if not batch and not args.question:
        raise RetrievalError('no question given; try: python -m retrieval search "your question"')
    settings = settings_from(args, config.search)
    if not batch:
        clean_question(check_utf8(" ".join(args.question)), settings.max_question_chars)  # before the model loads
    if args.context < 0:
        raise RetrievalError("--context takes a number of paragraphs, 0 or more")
    questions = first_of(read_questions(args.file or "-")) if batch else iter(())  # before the model loads
    retriever = opened(args, config, sources=args.sources, rebuild=args.rebuild,
                       progress=not (args.json or batch))  # JSON is for scripts: no bars beside it
    ask = Asker(retriever, settings, not args.all, args.context)
    if batch:
        return run_batch(ask, questions, config.serve.max_batch)
    answer = ask.answer(" ".join(args.question))
    if args.json:
        print(json.dumps(ask.record(answer), ensure_ascii=False, indent=1))
    else:
        marks = (MARK_ON, MARK_OFF) if sys.stdout.isatty() else PLAIN_MARKS
        print(render(answer, retriever, args.context, marks, show_command(args)))
    return 0


def show_command(args: argparse.Namespace) -> str:
    """The `show` command, as this shell runs it, with the options that found this index, for the footer to name."""
    given = [f"{option} {shlex.quote(str(value))}" for option, value in (("--config", args.config),
                                                                        ("--index", args.index)) if value]
    return " ".join([f"{program()} show", *given])


def first_of(questions: Iterator[T]) -> Iterator[T]:
    """The questions, once the first is in: an empty file or standard input is an error, not a silent exit 0."""
    first = next(questions, None)
    if first is None:
        raise RetrievalError("no questions to answer: the input is empty; give one question a line (on standard "
                             'input or with --file FILE), or ask one: python -m retrieval search "your question"')
    return itertools.chain([first], questions)


@dataclass(frozen=True)
class Asker:
    """The search options of one command line run, applied to each question."""

    retriever: Retriever
    settings: SearchSettings
    gate: bool  # False with --all: the top k as ranked, whether or not they answer
    context: int

    def answer(self, question: str) -> Answer:
        return self.retriever.answer(check_utf8(question), settings=self.settings, gate=self.gate)

    def answer_many(self, questions: list[str]) -> list[Answer | Exception]:
        """Each question's answer, or what answering it alone raised: the searchable ones are answered together,
        and one by one only when that fails, so that a bug one of them meets costs only its own answer."""
        outcomes: list[Answer | Exception | None] = [self.refusal(question) for question in questions]
        good = [i for i, outcome in enumerate(outcomes) if outcome is None]
        try:
            answers: list[Answer | Exception] = list(self.retriever.answer_many(
                [questions[i] for i in good], settings=self.settings, gate=self.gate))
        except Exception:
            answers = [self.answer_alone(questions[i]) for i in good]
        for i, answer in zip(good, answers, strict=True):
            outcomes[i] = answer
        return [outcome for outcome in outcomes if outcome is not None]

    def refusal(self, question: str) -> RetrievalError | None:
        """Why the question cannot be searched, or None when it can."""
        try:
            self.retriever.checked(check_utf8(question), None, self.settings)
        except RetrievalError as exc:
            return exc
        return None

    def answer_alone(self, question: str) -> Answer | Exception:
        try:
            return self.answer(question)
        except Exception as exc:
            return exc

    def record(self, answer: Answer) -> dict:
        """The answer's JSON, with the paragraphs around each hit when --context asked for them."""
        record = answer.to_dict()
        if self.context:
            for result, hit in zip(record["results"], answer.hits, strict=True):
                before, after = self.retriever.context(hit, self.context)
                result["context"] = {"before": [p.to_dict() for p in before], "after": [p.to_dict() for p in after]}
        return record


def run_batch(ask: Asker, questions: Iterator[tuple[str | None, str]], chunk: int) -> int:
    """One JSON line per question, in order, answered `chunk` questions at a time (Retriever.answer_many); a
    question that cannot be answered gets an `error` line, not a stop."""
    failures = unexpected = 0
    for batch in batched(questions, chunk):
        for (query_id, question), outcome in zip(batch, ask.answer_many([q for _, q in batch]), strict=True):
            extra = {"query_id": printable(query_id)} if query_id is not None else {}
            if isinstance(outcome, Answer):
                record = {**extra, **ask.record(outcome)}
            elif isinstance(outcome, RetrievalError):
                failures += 1
                record = {**extra, "query": printable(question), "error": printable(str(outcome))}
            else:  # a bug met by one question must not cost the answers to all the others
                failures += 1
                unexpected += 1
                # the first traceback is enough to report the bug; the rest would bury stderr
                LOG.error("answering %r failed unexpectedly", printable(question),
                          exc_info=outcome if unexpected == 1 else None)
                record = {**extra, "query": printable(question),
                          "error": printable(f"unexpected error: {type(outcome).__name__}: {outcome}")}
            print(json.dumps(record, ensure_ascii=False), flush=True)
    return EXIT_ERROR if failures else 0


def batched(items: Iterator[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` items, in order (itertools.batched arrives in Python 3.12)."""
    while chunk := list(islice(items, size)):
        yield chunk


def read_questions(name: str) -> Iterator[tuple[str | None, str]]:
    """(id, question) pairs from a text file (one a line, blank lines skipped) or a BEIR queries .jsonl.
    Bytes that are not UTF-8 are kept as surrogates, so that only their own question fails."""
    if name != "-" and not Path(name).is_file():
        raise RetrievalError(f"questions file {name} not found")
    if name == "-":
        handle = sys.stdin
        if hasattr(handle, "reconfigure"):
            handle.reconfigure(errors="surrogateescape")
    else:
        handle = open(name, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if name.endswith(".jsonl"):
                try:
                    record = json.loads(line)
                    yield str(record["_id"]), str(record["text"])
                except (ValueError, KeyError, TypeError):
                    raise RetrievalError(f"{name} line {number} is not a query with `_id` and `text`") from None
            else:
                yield None, line.rstrip("\n")
