"""The `python -m retrieval` command line: build an index, search it, list its sources, measure it."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from ..benchmarks.backends import BACKENDS, LARGE_DEFAULT, LARGE_KINDS
from ..benchmarks.batching import CONCURRENCY, QUESTIONS_PER_LEVEL
from ..benchmarks.stores import SPEED_QUESTIONS as STORE_QUESTIONS
from ..config import load_config
from ..encode.embed import BACKENDS as ALL_BACKENDS
from ..errors import RetrievalError
from ..ingest.formats import FORMAT_SUFFIXES
from ..ingest.readers import TEXT_SUFFIXES
from ..settings import FUSIONS, MODES, SearchSettings, ServeSettings
from .commands import (
    EXIT_ERROR,
    run_bench_batch,
    run_bench_command,
    run_bench_libraries,
    run_bench_stores,
    run_bench_uploads,
    run_build,
    run_calibrate,
    run_eval,
    run_search,
    run_serve,
    run_show,
    run_soak,
    run_sources,
)

DEFAULTS = SearchSettings()
DEFAULT_SERVE = ServeSettings()

EXIT_INTERRUPTED = 130

DESCRIPTION = """\
Answer questions from a fixed set of documents by quoting their paragraphs, with citations.
Nothing is generated: every result is a verbatim passage of a source.

Typical use:
  python -m retrieval search "How many North Korean refugees has NAUH resettled?"
  python -m retrieval build ../shared/data/scifact/corpus.jsonl --index /tmp/scifact-index
  python -m retrieval search --index /tmp/scifact-index --file queries.jsonl > answers.jsonl
"""


class StderrHandler(logging.StreamHandler):
    """Each record as its bare message, one line, on whatever sys.stderr is when it is logged."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    @property
    def stream(self):  # looked up each time, so a replaced sys.stderr (tests, redirection) gets the lines
        return sys.stderr

    @stream.setter
    def stream(self, _) -> None:
        pass


def show_library_log() -> None:
    """Let the user see what the library logs (an index being built, sources gone, bench progress) on stderr."""
    library = logging.getLogger("retrieval")
    library.setLevel(logging.INFO)
    if not any(isinstance(handler, StderrHandler) for handler in library.handlers):
        library.addHandler(StderrHandler())


def main(argv: list[str] | None = None) -> int:
    show_library_log()
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


def add_gate_options(command: argparse.ArgumentParser) -> None:
    """The "covered?" decision's options, shared by `search` and `eval`; checked by SearchSettings."""
    command.add_argument("--min-relevance", type=float, metavar="P",
                         help="how likely (0 to 1) the gate must find it that the sources answer the question for "
                         f"it to count as covered (default from config: {DEFAULTS.min_relevance})")
    command.add_argument("--min-score", type=float, metavar="COSINE",
                         help="the cosine (-1 to 1) the first passage must also reach (default from config: "
                         f"{DEFAULTS.min_score})")
    command.add_argument("--clear", type=float, metavar="P", help="show the first passage alone when its relevance "
                         f"(0 to 1) reaches this (default from config: {DEFAULTS.clear})")
    command.add_argument("--related", type=float, metavar="P", help="otherwise show a later passage when its "
                         f"relevance reaches this (default from config: {DEFAULTS.related})")


SCIFACT = Path("../shared/data/scifact")
# How long `bench` took on this project's 2-core machine (BENCHMARKS.md, "Speed, memory and scale"); the README
# says the same, and a test keeps them equal.
BENCH_MINUTES, BENCH_MINUTES_SMALL = 25, 15
DOCUMENT_SUFFIXES = sorted(FORMAT_SUFFIXES | set(TEXT_SUFFIXES))


def beir_option(command: argparse.ArgumentParser, more: str = "") -> None:
    command.add_argument("--beir", type=Path, default=SCIFACT, metavar="DIR",
                         help=f"a BEIR dataset folder (default: {SCIFACT}){more}")


def parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("--config", type=Path, help="a TOML config file (see config.example.toml); "
                        "without it the defaults are used")
    common.add_argument("--index", type=Path, help="a FAISS index folder (default from config: `index`, or the "
                        "Milvus index when store = \"milvus\"); `build` and the evaluation commands make one there, "
                        "the others only read one: only the configured index is built on first use")
    main_parser = Parser(prog="python -m retrieval", description=DESCRIPTION,
                                          formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    build = commands.add_parser("build", parents=[common], help="index a folder of documents or a corpus.jsonl",
                                description="Read the sources, embed every paragraph and replace the index "
                                "atomically: an interrupted build leaves the previous index untouched. Into the "
                                "configured store: FAISS files, or Milvus (store = \"milvus\" in [retrieval]).")
    build.add_argument("sources", nargs="?", type=Path,
                       help=f"a folder of documents ({', '.join(DOCUMENT_SUFFIXES)}; with an optional sources.toml) "
                       "or a BEIR corpus.jsonl (default from config: seeds)")
    build.add_argument("--json", action="store_true", help="print the new index's manifest as JSON (no progress "
                       "bars)")
    build.add_argument("--quiet", action="store_true", help="no progress bars (embedding, and the pages of each "
                       "PDF of 50 pages or more)")
    build.add_argument("--full", action="store_true", help="embed every passage again instead of reusing the "
                       "vectors of unchanged passages from the previous build")
    build.add_argument("--vectors-from", type=Path, metavar="DIR", help="a first build (moving to Milvus, say) "
                       "takes the vectors of unchanged passages from the FAISS index in DIR instead of embedding "
                       "them again")
    build.set_defaults(run=run_build)

    search = commands.add_parser("search", parents=[common], help="answer questions with cited passages",
                                 description="Print the passages closest to each question, best first, with "
                                 "citations. With --file (or piped input) every line is a question and every "
                                 "answer one JSON line. The configured index is built on first use.")
    search.add_argument("question", nargs="*", help="the question (quote it)")
    search.add_argument("-k", type=int, help=f"how many passages at most (default from config: {DEFAULTS.top_k})")
    search.add_argument("--json", action="store_true", help="print JSON: {query, took_ms, results: [...]}")
    search.add_argument("--file", help="read questions from this file, one a line ('-' for stdin); a .jsonl "
                        "file holds BEIR queries with `_id` and `text`")
    search.add_argument("--sources", type=Path, help="the sources the index must match (default: the ones it "
                        "was built from; the config's `sources` are what a first build reads)")
    add_gate_options(search)
    search.add_argument("--all", action="store_true", help="the top k as ranked, with no 'covered?' decision and "
                        "no margin (for scoring a benchmark)")
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
    show.add_argument("--page", type=int, help="print only the paragraphs of this page (PDF sources)")
    show.add_argument("--json", action="store_true", help="print JSON: {source, passages}")
    show.set_defaults(run=run_show)

    evaluate = commands.add_parser(
        "eval", parents=[common], help="measure retrieval on a gold file, a question set or a BEIR dataset",
        description="With --gold (the default): ask every question of a gold file (TOML [[question]] tables "
        "with `q` and verbatim `expect` snippets; none for off-topic questions) and print top-1/top-3 accuracy, "
        "MRR@10, how often the 'covered?' gate answers and keeps the right passage, passages shown per answer, "
        "the off-topic silence and the median time. With --questions DIR: the same on DIR/docs and "
        "DIR/questions.jsonl (laid out like ../shared/data/squad-dev). With --formats DIR: the same "
        "questions over DIR/docs written as PDF, web page, Word and Markdown, one column a format (first mode "
        "only). With --beir DIR: index DIR/corpus.jsonl (once, into --index or .cache/) and print nDCG@10, "
        "MRR@10 and Recall@1/3/10/100 on a split. Every retrieval mode is measured side by side.")
    evaluate.add_argument("--gold", type=Path, default=None,
                          help="gold file (default: gold.toml beside the sources the index was built "
                          "from)")
    evaluate.add_argument("--beir", type=Path, metavar="DIR", help="a BEIR dataset folder (corpus.jsonl, "
                          "queries.jsonl, qrels/)")
    evaluate.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    evaluate.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="modes to compare")
    evaluate.add_argument("--questions", type=Path, metavar="DIR", help="a question set laid out like "
                          "../shared/data/squad-dev: DIR/docs/ (the documents) and DIR/questions.jsonl (`q`, `expect`)")
    evaluate.add_argument("--formats", type=Path, metavar="DIR", help="a question set laid out like --questions: "
                          "write its articles as PDF, web page, Word and Markdown (into .cache/formats/), index "
                          "each, and print top-1/top-3/answered per format beside the plain text, with how each "
                          "format kept the answering paragraphs (needs fpdf2, and a Unicode TTF font via --font "
                          "or fc-match)")
    evaluate.add_argument("--followups", type=Path, metavar="FILE", help="a follow-up file (TOML [[followup]] "
                          "tables with `previous`, `q`, `expect`, like seeds/followups.toml): each follow-up "
                          "searched alone, joined to the question before it, and as the bot does")
    evaluate.add_argument("--feedback", type=Path, metavar="DB", help="the bot's question log (`feedback_db`): "
                          "questions not covered, answers voted down and the most asked, near-duplicates grouped")
    evaluate.add_argument("--days", type=float, default=30.0, help="with --feedback: the period, in days "
                          "(default 30)")
    evaluate.add_argument("--csv", action="store_true", help="with --feedback: print the report as CSV")
    evaluate.add_argument("--gold-out", action="store_true", help="with --feedback: print candidate gold "
                          "questions (gold.toml format) for the questions that went wrong")
    evaluate.add_argument("--font", type=Path, metavar="TTF", help="with --formats: the PDF's font (default: "
                          "DejaVu Sans, found with fc-match)")
    evaluate.add_argument("--off-topic", type=Path, metavar="FILE", help="with --questions: a .jsonl of questions "
                          "the documents cannot answer (`q`, or BEIR `text`), e.g. the SciFact queries.jsonl")
    evaluate.add_argument("--fusion", choices=FUSIONS, help=f"hybrid fusion to measure (default: {DEFAULTS.fusion})")
    evaluate.add_argument("--dense-weight", type=float, help="dense weight of weighted fusion to measure "
                          f"(default: {DEFAULTS.dense_weight})")
    evaluate.add_argument("--passage-vectors-only", action="store_true", help="rank by each passage's own vector, "
                          "without its sentences' vectors or its vector in context")
    evaluate.add_argument("--without-context", action="store_true", help="rank without each passage's vector "
                          "in context (README, \"How answers are chosen\")")
    evaluate.add_argument("--without-late-interaction", action="store_true", help="rank and judge without "
                          "re-reading the first passages word piece by word piece (late interaction, MaxSim)")
    add_gate_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print the reports as JSON")
    evaluate.set_defaults(run=run_eval)

    calibrate = commands.add_parser(
        "calibrate", parents=[common], help="fit the gate and the relevance model on development data",
        description="Ask each --set's questions of its corpus: those with `expect` snippets are answered there, "
        "those without are not (each file is one kind of such question). Print the logistic regression "
        "coefficients of the gate (COVERED) and of a passage's relevance (ANSWERS) for "
        "retrieval/search/coverage.py, and the share of each kind the gate lets through. Indexes are cached in "
        ".cache/. BENCHMARKS.md (\"Answer precision\") has the command that made the defaults.")
    calibrate.add_argument("--set", nargs=2, action="append", required=True, metavar=("SOURCES", "QUESTIONS"),
                           help="a corpus and questions to ask of it: a gold .toml, or a .jsonl of `q` (or BEIR "
                           "`text`) records with optional `expect` snippets; repeatable")
    calibrate.add_argument("--covered-at", type=float, default=DEFAULTS.min_relevance, metavar="P",
                           help="the gate's threshold whose questions the relevance model learns from (default: "
                           f"{DEFAULTS.min_relevance})")
    calibrate.set_defaults(run=run_calibrate)

    soak = commands.add_parser(
        "soak", parents=[common], help="ask thousands of distinct questions of one long-lived index",
        description="Answer every query and every document title of a BEIR dataset (about 6,300 for SciFact) "
        "with one Retriever, k cycling from 3 to 100, highlighting on; print errors, time and memory at start, "
        "end and ten points between. Exits 1 if any question raised.")
    beir_option(soak, "; indexed once into .cache/")
    soak.add_argument("--limit", type=int, help="ask only the first N questions")
    soak.add_argument("--json", action="store_true", help="print the figures as JSON")
    soak.set_defaults(run=run_soak)

    bench = commands.add_parser(
        "bench", parents=[common], help="measure speed, memory and quality of each backend side by side",
        description="Index the seeds and BEIR SciFact with each backend (the plain sentence-transformers "
        "baseline first), then print search latency p50/p95 (query encoding included), indexing throughput, "
        "the build's peak memory, nDCG@10 on SciFact test, and the time to rebuild after editing one "
        f"document. Takes about {BENCH_MINUTES} minutes on 2 cores ({BENCH_MINUTES_SMALL} with --large 0; "
        "BENCHMARKS.md); indexes go to a temporary folder that is removed.")
    bench.add_argument("--scifact", type=Path, default=SCIFACT,
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

    bench_batch = commands.add_parser(
        "bench-batch", parents=[common], help="measure batched questions against one at a time",
        description="Over BEIR SciFact (indexed once into .cache/) with its claims as questions: at each number "
        "of concurrent askers (threads that each ask a question and wait for its answer, again and again), "
        "questions per second and p50/p99 latency of (a) one search thread answering one question at a time, "
        "as the bot does, and (b) the Batcher ([retrieval.serve] max_batch and max_wait_ms). About a minute.")
    beir_option(bench_batch)
    bench_batch.add_argument("--concurrency", type=concurrency_levels, default=CONCURRENCY, metavar="N,N,...",
                             help=f"numbers of concurrent askers (default: {','.join(map(str, CONCURRENCY))})")
    bench_batch.add_argument("--questions", type=int, default=QUESTIONS_PER_LEVEL, metavar="N",
                             help=f"questions asked at each level by each path (default: {QUESTIONS_PER_LEVEL})")
    bench_batch.add_argument("--max-batch", type=int, help="questions answered together at most (default from "
                             f"config: {DEFAULT_SERVE.max_batch})")
    bench_batch.add_argument("--max-wait-ms", type=float, help="how long a batch's first question waits for "
                             f"others (default from config: {DEFAULT_SERVE.max_wait_ms})")
    bench_batch.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench_batch.set_defaults(run=run_bench_batch)

    bench_stores = commands.add_parser(
        "bench-stores", parents=[common], help="measure the Milvus store against the FAISS store",
        description="Over a BEIR dataset (default SciFact), FAISS files (cached in .cache/) beside Milvus (a Milvus "
        "Lite server started on 127.0.0.1 over --milvus-data, reached as a replica reaches a server): nDCG@10 on "
        "the test split and how often both give the same top 3 sources, memory of the searching process and of "
        "Milvus and disk per passage, questions per second one at a time and batched. Each index is built "
        "first if missing (SciFact: some 15 minutes each on 2 cores).")
    beir_option(bench_stores)
    bench_stores.add_argument("--milvus-data", type=Path, metavar="DIR",
                              help="the Milvus Lite data folder (default: .cache/NAME-milvus.db)")
    bench_stores.add_argument("--questions", type=int, default=STORE_QUESTIONS, metavar="N",
                              help=f"questions asked by each path at each level (default: {STORE_QUESTIONS})")
    bench_stores.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench_stores.set_defaults(run=run_bench_stores)

    bench_uploads = commands.add_parser(
        "bench-uploads", parents=[common], help="measure refusing hostile documents (a Word zip bomb, a slow PDF)",
        description="Makes a real Word zip bomb (1.3 MB that unzips to 1.2 GB) and a PDF whose 60 pages share one "
        "3 MB content stream, reads each in a fresh process as a build does (within the config's "
        "[retrieval.reading] bounds), and prints how long refusing it took and the peak memory of the reading "
        "(the reading process and its reader worker). About a minute, most of it making the bomb.")
    bench_uploads.add_argument("--folder", type=Path, metavar="DIR", help="keep the hostile files here "
                               "(default: a temporary folder, deleted after)")
    bench_uploads.add_argument("--time-folders", type=Path, nargs="+", metavar="DIR", default=[],
                               help="also time reading these folders of ordinary documents, within bounds and "
                               "unbounded (each file by its reader in this process)")
    bench_uploads.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench_uploads.set_defaults(run=run_bench_uploads)

    bench_libraries = commands.add_parser(
        "bench-libraries", parents=[common], help="measure many servers' own libraries beside the shared one",
        description="Index the config's sources as the shared library and a small document for each of --servers "
        "servers as their own libraries (in --work), then measure, in this one process as the bot holds them: its "
        "memory, a question's time in a server with its own library against one without (the seeds' gold "
        "questions), and the time to open a server's library on first use.")
    bench_libraries.add_argument("--servers", type=int, default=200, metavar="N",
                                 help="servers with a library of their own (default: 200)")
    bench_libraries.add_argument("--work", type=Path, default=Path(".cache/bench-libraries"), metavar="DIR",
                                 help="where the indexes are built, emptied first (default: .cache/bench-libraries)")
    bench_libraries.add_argument("--questions", type=int, default=20, metavar="N",
                                 help="gold questions asked on each side (default: 20)")
    bench_libraries.set_defaults(run=run_bench_libraries)

    serve = commands.add_parser(
        "serve", parents=[common], help="answer questions over HTTP, with the same JSON as `search --json`",
        description="Load the index once and serve it over HTTP until stopped (Ctrl-C): GET /search?q=QUESTION&k=K "
        "(the JSON of `search --json`), GET /sources, GET /sources/ID (`sources --json`, `show ID --json`), "
        "GET /health (the index's passages, sources, model and build time) and GET /metrics (Prometheus). "
        "Questions that arrive together are answered in batches ([retrieval.serve] max_batch, max_wait_ms). "
        "Listens on 127.0.0.1 unless told otherwise: put a proxy with TLS in front before opening it wider.")
    serve.add_argument("--host", help=f"address to listen on (default from config: {DEFAULT_SERVE.host})")
    serve.add_argument("--port", type=int, help=f"port to listen on (default from config: {DEFAULT_SERVE.port})")
    serve.set_defaults(run=run_serve)
    return main_parser


def concurrency_levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers like 1,8,32: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"each number of askers must be 1 or more: {text!r}")
    return levels
