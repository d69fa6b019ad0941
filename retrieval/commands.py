"""What each command line command does, once its arguments are parsed: thin calls into the library."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .bench import run_bench
from .config import RetrievalConfig
from .errors import RetrievalError
from .evaluate import beir_table, evaluate_beir, evaluate_gold, gold_table, load_beir, load_gold, to_json
from .feedback import FeedbackStore
from .loader import build_from, open_retriever
from .render import MARK_OFF, MARK_ON, PLAIN_MARKS, WRAP_COLUMNS, render
from .search import Answer, Retriever, clean_question
from .utf8 import check_utf8, printable

BEIR_CACHE = Path(".cache")
EXIT_ERROR = 1
LOG = logging.getLogger(__name__)


def run_build(args: argparse.Namespace, config: RetrievalConfig) -> int:
    sources = args.sources or config.sources
    index = args.index or config.index
    manifest = build_from(config, sources, index, progress=not args.quiet, reuse=not args.full)
    if args.json:
        print(json.dumps(manifest.__dict__, indent=1))
    else:
        reused = manifest.vectors - manifest.embedded
        print(f"indexed {manifest.vectors} passages from {manifest.sources} sources into {index} "
              f"in {manifest.build_seconds:.1f} s ({manifest.embedded} embedded, {reused} reused from the previous "
              "build)")
    return 0


def run_search(args: argparse.Namespace, config: RetrievalConfig) -> int:
    batch = args.file is not None or (not args.question and not sys.stdin.isatty())
    if not batch:
        if not args.question:
            raise RetrievalError('no question given; try: python -m retrieval search "your question"')
        clean_question(check_utf8(" ".join(args.question)), config.max_question_chars)  # before the model loads
    retriever = open_retriever(config, sources=args.sources, index=args.index, rebuild=args.rebuild)
    if args.context < 0:
        raise RetrievalError("--context takes a number of paragraphs, 0 or more")
    ask = Asker(retriever, args.k, args.min_score, args.mode, args.context)
    if batch:
        return run_batch(ask, read_questions(args.file or "-"))
    answer = ask.answer(" ".join(args.question))
    if args.json:
        print(json.dumps(ask.record(answer), ensure_ascii=False, indent=1))
    else:
        marks = (MARK_ON, MARK_OFF) if sys.stdout.isatty() else PLAIN_MARKS
        print(render(answer, retriever, args.context, marks))
    return 0


@dataclass(frozen=True)
class Asker:
    """The search options of one command line run, applied to each question."""

    retriever: Retriever
    k: int | None
    min_score: float | None
    mode: str | None
    context: int

    def answer(self, question: str) -> Answer:
        return self.retriever.answer(check_utf8(question), self.k, self.min_score, self.mode)

    def record(self, answer: Answer) -> dict:
        """The answer's JSON, with the paragraphs around each hit when --context asked for them."""
        record = answer.to_dict()
        if self.context:
            for result, hit in zip(record["results"], answer.hits, strict=True):
                before, after = self.retriever.context(hit, self.context)
                result["context"] = {"before": [p.to_dict() for p in before], "after": [p.to_dict() for p in after]}
        return record


def run_batch(ask: Asker, questions: Iterator[tuple[str | None, str]]) -> int:
    """One JSON line per question; a question that cannot be answered gets an `error` line, not a stop."""
    failures = unexpected = 0
    for query_id, question in questions:
        extra = {"query_id": printable(query_id)} if query_id is not None else {}
        try:
            record = {**extra, **ask.record(ask.answer(question))}
        except RetrievalError as exc:
            failures += 1
            record = {**extra, "query": printable(question), "error": printable(str(exc))}
        except Exception as exc:  # a bug met by one question must not cost the answers to all the others
            failures += 1
            unexpected += 1
            # the first traceback is enough to report the bug; the rest would bury stderr
            LOG.error("answering %r failed unexpectedly", printable(question), exc_info=unexpected == 1)
            record = {**extra, "query": printable(question),
                      "error": printable(f"unexpected error: {type(exc).__name__}: {exc}")}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return EXIT_ERROR if failures else 0


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


def run_show(args: argparse.Namespace, config: RetrievalConfig) -> int:
    retriever = open_retriever(config, index=args.index)
    source = retriever.source(args.source_id)
    passages = retriever.passages_of(source.id)
    if args.paragraph is not None:
        last = passages[-1].paragraph if passages else 0
        if not 1 <= args.paragraph <= last:
            raise RetrievalError(f"{source.id} has no paragraph {args.paragraph}; it has 1 to {last}")
        passages = [p for p in passages if p.paragraph == args.paragraph]  # a long paragraph has several parts
    if args.json:
        print(json.dumps({"source": source.to_dict(), "passages": [p.to_dict() for p in passages]},
                         ensure_ascii=False, indent=1))
        return 0
    facts = {k: v for k, v in source.to_dict().items() if v and k != "id"}
    print(f"{source.id}\n" + "\n".join(f"  {k}: {v}" for k, v in facts.items()) + "\n")
    for passage in passages:
        tag = "" if passage.answerable else f" ({passage.role})"
        print(f"¶{passage.paragraph}{tag}" + (" (continued)" if passage.part > 1 else ""))
        print(textwrap.fill(passage.text, WRAP_COLUMNS, initial_indent="   ", subsequent_indent="   ") + "\n")
    return 0


def run_bench_command(args: argparse.Namespace, config: RetrievalConfig) -> int:
    if not (args.scifact / "corpus.jsonl").is_file():
        raise RetrievalError(f"{args.scifact} is not a BEIR SciFact folder; pass --scifact DIR")
    print(run_bench(args.scifact, config.sources, Path("tests/retrieval/seeds_gold.toml"),
                    tuple(args.backends), args.json, args.large, tuple(args.large_kinds)))
    return 0


def run_eval(args: argparse.Namespace, config: RetrievalConfig) -> int:
    overrides = {"fusion": args.fusion, "dense_weight": args.dense_weight}
    config = replace(config, **{key: value for key, value in overrides.items() if value is not None})
    if args.feedback:
        if not args.feedback.is_file():
            raise RetrievalError(f"feedback database {args.feedback} not found (the bot writes it: `feedback_db`)")
        report = FeedbackStore(args.feedback).report()
        print(json.dumps(asdict(report), ensure_ascii=False, indent=1) if args.json else report.table())
        return 0
    if args.beir:
        queries, qrels = load_beir(args.beir, args.split)
        index = args.index or BEIR_CACHE / f"{args.beir.resolve().name}-index"
        # the cached index is ours to remake when stale; an index the user named is only ever reported
        cache_config = config if args.index else replace(config, auto_build="stale")
        retriever = open_retriever(cache_config, sources=args.beir / "corpus.jsonl", index=index)
        reports = [evaluate_beir(retriever, queries, qrels, mode) for mode in args.modes]
        title, text = f"{args.beir.name} {args.split}: {len(qrels)} queries", beir_table(reports)
    else:
        questions = load_gold(args.gold)
        retriever = open_retriever(config, index=args.index)
        reports = [evaluate_gold(retriever, questions, mode) for mode in args.modes]
        title, text = f"gold file {args.gold}", gold_table(reports)
    print(json.dumps(to_json(reports), ensure_ascii=False, indent=1) if args.json else f"{title}\n{text}")
    return 0


def run_sources(args: argparse.Namespace, config: RetrievalConfig) -> int:
    retriever = open_retriever(config, index=args.index, progress=True)
    rows = [{**s.to_dict(), "passages": retriever.answerable_count(s.id)} for s in retriever.sources.values()]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for row in rows:
        who = ", ".join(str(x) for x in (row["author"], row["date"]) if x) or "author and date unknown"
        print(f"{row['id']}  {row['title']}  ({who}; {row['passages']} passages)")
    return 0
