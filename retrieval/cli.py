"""The `python -m retrieval` command line: build an index, search it, list its sources, measure it."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .bench import BACKENDS, LARGE_DEFAULT, LARGE_KINDS
from .commands import (
    EXIT_ERROR,
    run_bench_command,
    run_build,
    run_eval,
    run_search,
    run_show,
    run_sources,
)
from .config import load_config
from .embed import BACKENDS as ALL_BACKENDS
from .errors import RetrievalError
from .search import MODES

EXIT_INTERRUPTED = 130

DESCRIPTION = """\
Answer questions from a fixed set of documents by quoting their paragraphs, with citations.
Nothing is generated: every result is a verbatim passage of a source.

Typical use:
  python -m retrieval search "How many North Korean refugees has NAUH resettled?"
  python -m retrieval build ../shared/data/scifact/corpus.jsonl --index /tmp/scifact-index
  python -m retrieval search --index /tmp/scifact-index --file queries.jsonl > answers.jsonl
"""


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
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


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is a one-line error with exit code 1, like every other."""

    def error(self, message: str) -> NoReturn:
        raise RetrievalError(f"{message}; see `{self.prog} --help`")


def between(low: float, high: float, what: str) -> Callable[[str], float]:
    """An argparse type: a number from `low` to `high` (never nan), called `what` in errors."""

    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:  # also false for nan
            raise argparse.ArgumentTypeError(f"must be {what} between {low:g} and {high:g}, not {text}")
        return value
    parse.__name__ = what.split()[-1]  # argparse names the type in "invalid <name> value"
    return parse


def parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("--config", type=Path, help="a TOML config file (see config.example.toml); "
                        "without it the defaults are used")
    common.add_argument("--index", type=Path, help="index folder (default from config: index)")
    main_parser = Parser(prog="python -m retrieval", description=DESCRIPTION,
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
    search.add_argument("--min-score", type=between(-1.0, 1.0, "a cosine"), help="relevance threshold, cosine "
                        "in [-1, 1] (default from config: 0.32); results below it are dropped")
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
    evaluate.add_argument("--dense-weight", type=between(0.0, 1.0, "a weight"), help="dense weight of weighted "
                          "fusion to measure (default from config: 0.6)")
    evaluate.add_argument("--feedback", type=Path, metavar="DB", help="report the readers' votes kept in the "
                          "bot's feedback SQLite file instead")
    evaluate.add_argument("--json", action="store_true", help="print the reports as JSON")
    evaluate.set_defaults(run=run_eval)

    bench = commands.add_parser(
        "bench", parents=[common], help="measure speed, memory and quality of each backend side by side",
        description="Index the seeds and BEIR SciFact with each backend (the plain sentence-transformers "
        "baseline first), then print search latency p50/p95 (query encoding included), indexing throughput, "
        "the build's peak memory, nDCG@10 on SciFact test, and the time to rebuild after editing one "
        "document. Takes about 10 minutes on 2 cores; indexes go to a temporary folder that is removed.")
    bench.add_argument("--scifact", type=Path, default=Path("../shared/data/scifact"),
                       help="BEIR SciFact folder (default: ../shared/data/scifact)")
    bench.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=ALL_BACKENDS,
                       help=f"backends to compare, the baseline first (default: {' '.join(BACKENDS)})")
    bench.add_argument("--large", type=int, default=LARGE_DEFAULT, metavar="N",
                       help="also measure vector indexes over N synthetic passages shaped like SciFact's "
                       "embeddings (default: 1000000; 0 skips)")
    bench.add_argument("--large-kinds", nargs="+", default=list(LARGE_KINDS), choices=["exact", "ivf-sq8", "hnsw"],
                       help="index kinds for --large (default: exact ivf-sq8)")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.set_defaults(run=run_bench_command)
    return main_parser
