"""The `python -m retrieval` command line: build an index, search it, list its sources, measure it."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .bench import BACKENDS, run_bench
from .config import RetrievalConfig, load_config
from .errors import RetrievalError
from .evaluate import beir_table, evaluate_beir, evaluate_gold, gold_table, load_beir, load_gold, to_json
from .feedback import FeedbackStore
from .loader import build_from, open_retriever
from .records import Passage
from .search import MODES, Answer, Retriever, clean_question

WRAP_COLUMNS = 100
BEIR_CACHE = Path(".cache")
MARK_ON, MARK_OFF = "\033[1m", "\033[0m"  # bold in a terminal; plain output marks with »…« instead
PLAIN_MARKS = ("»", "«")
EXIT_ERROR, EXIT_INTERRUPTED = 1, 130

DESCRIPTION = """\
Answer questions from a fixed set of documents by quoting their paragraphs, with citations.
Nothing is generated: every result is a verbatim passage of a source.

Typical use:
  python -m retrieval search "How many North Korean refugees has NAUH resettled?"
  python -m retrieval build ../shared/data/scifact/corpus.jsonl --index /tmp/scifact-index
  python -m retrieval search --index /tmp/scifact-index --file queries.jsonl > answers.jsonl
"""


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config(args.config).retrieval
        return args.run(args, config)
    except RetrievalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted; nothing was changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (say `head`) has gone; stop quietly instead of failing on flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="a TOML config file (see config.example.toml); "
                        "without it the defaults are used")
    common.add_argument("--index", type=Path, help="index folder (default from config: index)")
    main_parser = argparse.ArgumentParser(prog="python -m retrieval", description=DESCRIPTION,
                                          formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    build = commands.add_parser("build", parents=[common], help="index a folder of documents or a corpus.jsonl",
                                description="Read the sources, embed every paragraph and replace the index "
                                "atomically: an interrupted build leaves the previous index untouched.")
    build.add_argument("sources", nargs="?", type=Path,
                       help="a folder of .txt/.md documents (with an optional sources.toml) or a BEIR corpus.jsonl "
                       "(default from config: seeds)")
    build.add_argument("--json", action="store_true", help="print the new index's manifest as JSON")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.add_argument("--full", action="store_true", help="embed every passage again instead of reusing the "
                       "vectors of unchanged passages from the previous build")
    build.set_defaults(run=run_build)

    search = commands.add_parser("search", parents=[common], help="answer questions with cited passages",
                                 description="Print the passages closest to each question, best first, with "
                                 "citations. With --file (or piped input) every line is a question and every "
                                 "answer one JSON line. The index is built on first use.")
    search.add_argument("question", nargs="*", help="the question (quote it)")
    search.add_argument("-k", type=int, help="how many passages at most (default from config: 3)")
    search.add_argument("--json", action="store_true", help="print JSON: {query, took_ms, results: [...]}")
    search.add_argument("--file", help="read questions from this file, one a line ('-' for stdin); a .jsonl "
                        "file holds BEIR queries with `_id` and `text`")
    search.add_argument("--sources", type=Path, help="the sources the index must match (default: the ones it "
                        "was built from, or the config's)")
    search.add_argument("--min-score", type=float, help="relevance threshold, cosine in [-1, 1] (default from "
                        "config: 0.32); results below it are dropped")
    search.add_argument("--rebuild", action="store_true", help="rebuild the index first if it is missing or stale")
    search.add_argument("--mode", choices=MODES, help="ranking: hybrid (dense + BM25), dense or lexical "
                        "(default from config: hybrid)")
    search.add_argument("--context", type=int, default=0, metavar="N",
                        help="also print the N paragraphs before and after each passage")
    search.set_defaults(run=run_search)

    sources = commands.add_parser("sources", parents=[common], help="list the indexed sources",
                                  description="List each source's id, title, author, date and passage count.")
    sources.add_argument("--json", action="store_true", help="print a JSON list")
    sources.set_defaults(run=run_sources)

    show = commands.add_parser("show", parents=[common], help="print one source, paragraph by paragraph",
                               description="Print a source's metadata and its paragraphs, numbered as citations "
                               "number them (headings and captions included, page chrome left out).")
    show.add_argument("source_id", help="a source id, as `sources` lists them")
    show.add_argument("--paragraph", type=int, help="print only this paragraph")
    show.add_argument("--json", action="store_true", help="print JSON: {source, passages}")
    show.set_defaults(run=run_show)

    evaluate = commands.add_parser(
        "eval", parents=[common], help="measure retrieval on a gold file or a BEIR dataset",
        description="With --gold (the default): ask every question of a gold file (TOML [[question]] tables "
        "with `q` and verbatim `expect` snippets; none for off-topic questions) and print top-1/top-3 accuracy, "
        "MRR@10, the threshold's answer rates and the median time. With --beir DIR: index DIR/corpus.jsonl "
        "(once, into --index or .cache/) and print nDCG@10, MRR@10 and Recall@1/3/10/100 on a split. "
        "Every retrieval mode is measured side by side.")
    evaluate.add_argument("--gold", type=Path, default=Path("tests/retrieval/seeds_gold.toml"),
                          help="gold file (default: tests/retrieval/seeds_gold.toml)")
    evaluate.add_argument("--beir", type=Path, metavar="DIR", help="a BEIR dataset folder (corpus.jsonl, "
                          "queries.jsonl, qrels/)")
    evaluate.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    evaluate.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="modes to compare")
    evaluate.add_argument("--fusion", choices=["weighted", "rrf"], help="hybrid fusion to measure "
                          "(default from config: weighted)")
    evaluate.add_argument("--dense-weight", type=float, help="dense weight of weighted fusion to measure "
                          "(default from config: 0.6)")
    evaluate.add_argument("--feedback", type=Path, metavar="DB", help="report the readers' votes kept in the "
                          "bot's feedback SQLite file instead")
    evaluate.add_argument("--json", action="store_true", help="print the reports as JSON")
    evaluate.set_defaults(run=run_eval)

    bench = commands.add_parser(
        "bench", help="measure speed, memory and quality of each backend side by side",
        description="Index the seeds and BEIR SciFact with each backend (the plain sentence-transformers "
        "baseline first), then print search latency p50/p95 (query encoding included), indexing throughput, "
        "the build's peak memory, nDCG@10 on SciFact test, and the time to rebuild after editing one "
        "document. Takes about 10 minutes on 2 cores; indexes go to a temporary folder that is removed.")
    bench.add_argument("--scifact", type=Path, default=Path("../shared/data/scifact"),
                       help="BEIR SciFact folder (default: ../shared/data/scifact)")
    bench.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=["torch", "onnx", "onnx-int8"],
                       help="backends to compare (default: torch onnx-int8)")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.set_defaults(run=run_bench_command)
    return main_parser


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
        clean_question(" ".join(args.question), config.max_question_chars)  # fail before the model loads
    retriever = open_retriever(config, sources=args.sources, index=args.index, rebuild=args.rebuild)
    if args.context < 0:
        raise RetrievalError("--context takes a number of paragraphs, 0 or more")
    ask = Asker(retriever, args.k, args.min_score, args.mode, args.context)
    if batch:
        return run_batch(ask, read_questions(args.file or "-"))
    answer = retriever.answer(" ".join(args.question), args.k, args.min_score, args.mode)
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
        return self.retriever.answer(question, self.k, self.min_score, self.mode)

    def record(self, answer: Answer) -> dict:
        """The answer's JSON, with the paragraphs around each hit when --context asked for them."""
        record = answer.to_dict()
        if self.context:
            for result, hit in zip(record["results"], answer.hits, strict=True):
                before, after = self.retriever.context(hit, self.context)
                result["context"] = {"before": [p.to_dict() for p in before], "after": [p.to_dict() for p in after]}
        return record


def run_batch(ask: Asker, questions: Iterator[tuple[str | None, str]]) -> int:
    """One JSON line per question; a question that cannot be asked gets an `error` line, not a stop."""
    failures = 0
    for query_id, question in questions:
        extra = {"query_id": query_id} if query_id is not None else {}
        try:
            record = {**extra, **ask.record(ask.answer(question))}
        except RetrievalError as exc:
            failures += 1
            record = {**extra, "query": question, "error": str(exc)}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return EXIT_ERROR if failures else 0


def read_questions(name: str) -> Iterator[tuple[str | None, str]]:
    """(id, question) pairs from a text file (one a line, blank lines skipped) or a BEIR queries .jsonl."""
    if name != "-" and not Path(name).is_file():
        raise RetrievalError(f"questions file {name} not found")
    handle = sys.stdin if name == "-" else open(name, encoding="utf-8", errors="replace")  # noqa: SIM115
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


def render(answer: Answer, retriever: Retriever, context: int = 0, marks: tuple[str, str] = PLAIN_MARKS) -> str:
    if not answer.hits:
        return (f"The sources do not cover this question: no passage scored above "
                f"{retriever.min_score:.2f}. ({answer.took_ms:.0f} ms)")
    lines = []
    for hit in answer.hits:
        lines.append(f"{hit.rank}. {hit.citation}  score {hit.score:.2f}")
        lines.extend(f"   also in {place.citation}" for place in hit.also_in)
        before, after = retriever.context(hit, context) if context else ([], [])
        lines.extend(context_line(p) for p in before)
        lines.extend(textwrap.wrap(marked(hit.text, hit.highlights, marks), WRAP_COLUMNS,
                                   initial_indent="   ", subsequent_indent="   "))
        lines.extend(context_line(p) for p in after)
        lines.append("")
    lines.append(f"{len(answer.hits)} passage(s) in {answer.took_ms:.0f} ms. "
                 "Read a passage in context: python -m retrieval show SOURCE_ID --paragraph N")
    return "\n".join(lines)


def marked(text: str, spans: tuple[tuple[int, int], ...], marks: tuple[str, str]) -> str:
    """The text with each highlighted span wrapped in the markers; the words themselves are untouched."""
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], marks[0], text[start:end], marks[1]]
        last = end
    return "".join([*out, text[last:]])


def context_line(passage: Passage) -> str:
    return "   " + textwrap.shorten(f"¶{passage.paragraph} (context) {passage.text}", WRAP_COLUMNS, placeholder=" …")


def run_show(args: argparse.Namespace, config: RetrievalConfig) -> int:
    retriever = open_retriever(config, index=args.index)
    source = retriever.source(args.source_id)
    passages = retriever.passages_of(source.id)
    if args.paragraph is not None:
        if not 1 <= args.paragraph <= len(passages):
            raise RetrievalError(f"{source.id} has no paragraph {args.paragraph}; it has 1 to {len(passages)}")
        passages = [passages[args.paragraph - 1]]
    if args.json:
        print(json.dumps({"source": source.to_dict(), "passages": [p.to_dict() for p in passages]},
                         ensure_ascii=False, indent=1))
        return 0
    facts = {k: v for k, v in source.to_dict().items() if v and k != "id"}
    print(f"{source.id}\n" + "\n".join(f"  {k}: {v}" for k, v in facts.items()) + "\n")
    for passage in passages:
        tag = "" if passage.answerable else f" ({passage.role})"
        print(f"¶{passage.paragraph}{tag}")
        print(textwrap.fill(passage.text, WRAP_COLUMNS, initial_indent="   ", subsequent_indent="   ") + "\n")
    return 0


def run_bench_command(args: argparse.Namespace, config: RetrievalConfig) -> int:
    if not (args.scifact / "corpus.jsonl").is_file():
        raise RetrievalError(f"{args.scifact} is not a BEIR SciFact folder; pass --scifact DIR")
    print(run_bench(args.scifact, config.sources, Path("tests/retrieval/seeds_gold.toml"),
                    tuple(args.backends), args.json))
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
        retriever = open_retriever(config, sources=args.beir / "corpus.jsonl", index=index)
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
