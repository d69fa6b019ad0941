"""The commands that measure speed, memory and staying up: `bench`, `bench-batch`, `bench-stores`, `bench-uploads`,
`bench-libraries` and `soak`; arguments in, tables or JSON out. Every data set is named: none is assumed."""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from ..benchmarks.backends import BACKENDS, LARGE_DEFAULT, LARGE_KINDS, run_bench
from ..benchmarks.batching import CONCURRENCY, QUESTIONS_PER_LEVEL, batch_table, bench_batching
from ..benchmarks.batching import to_json as batch_json
from ..benchmarks.libraries import bench_libraries, libraries_table
from ..benchmarks.soak import soak, soak_questions
from ..benchmarks.stores import SPEED_QUESTIONS as STORE_QUESTIONS
from ..benchmarks.stores import bench_stores, stores_table
from ..benchmarks.uploads import folders_table, run_upload_bench, time_folder, upload_table
from ..config import RetrievalConfig
from ..encode.embed import BACKENDS as ALL_BACKENDS
from ..encode.embed import load_encoder, resolve_model
from ..errors import RetrievalError
from ..evaluate.corpora import cached_index
from ..evaluate.evaluate import default_gold, load_beir
from ..settings import ServeSettings
from .common import EXIT_ERROR, SharedOptions, beir_option, cached_retriever, serve_settings_from

DEFAULT_SERVE = ServeSettings()
# How long `bench` took on this project's 2-core machine (BENCHMARKS.md, "Speed, memory and scale"); the docs say
# the same, and a test keeps them equal.
BENCH_MINUTES, BENCH_MINUTES_SMALL = 25, 15
LOG = logging.getLogger(__name__)


def add_commands(commands: argparse._SubParsersAction, shared: SharedOptions) -> None:
    index, as_json = shared.index, shared.as_json
    soak_command = commands.add_parser(
        "soak", parents=[index, as_json], help="ask thousands of distinct questions of one long-lived index",
        description="Answer every query and every document title of a BEIR dataset (about 6,300 for SciFact) "
        "with one Retriever, k cycling from 3 to 100, highlighting on; print errors, time and memory at start, "
        "end and ten points between. Exits 1 if any question raised.")
    beir_option(soak_command, "; indexed once into .cache/")
    soak_command.add_argument("--limit", type=int, help="ask only the first N questions")
    soak_command.set_defaults(run=run_soak)

    bench = commands.add_parser(
        "bench", parents=[index, as_json], help="measure speed, memory and quality of each backend side by side",
        description="First time answer() against plain sentence-transformers + FAISS top 3 on the seeds' gold "
        "questions, interleaved, and print the ratio of their p50s. Then index the seeds and BEIR SciFact with each "
        "backend (the plain sentence-transformers "
        "baseline first), then print search latency p50/p95 (query encoding included), indexing throughput, "
        "the build's peak memory, nDCG@10 on SciFact test, and the time to rebuild after editing one "
        f"document. Takes about {BENCH_MINUTES} minutes on 2 cores ({BENCH_MINUTES_SMALL} with --large 0; "
        "BENCHMARKS.md); indexes go to a temporary folder that is removed.")
    bench.add_argument("--scifact", type=Path, metavar="DIR", help="the BEIR SciFact folder (needed but with "
                       "--plain-only)")
    bench.add_argument("--plain-only", action="store_true",
                       help="only answer() against plain sentence-transformers + FAISS top 3 (a few minutes)")
    bench.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=ALL_BACKENDS,
                       help=f"backends to compare, the baseline first (default: {' '.join(BACKENDS)})")
    bench.add_argument("--large", type=int, default=LARGE_DEFAULT, metavar="N",
                       help="also measure vector indexes over N synthetic passages shaped like SciFact's "
                       f"embeddings (default: {LARGE_DEFAULT}; 0 skips)")
    bench.add_argument("--large-kinds", nargs="+", default=list(LARGE_KINDS), choices=["exact", "ivf-sq8", "hnsw"],
                       help=f"index kinds for --large (default: {' '.join(LARGE_KINDS)})")
    bench.set_defaults(run=run_bench_command)

    bench_batch = commands.add_parser(
        "bench-batch", parents=[index, as_json], help="measure batched questions against one at a time",
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
    bench_batch.set_defaults(run=run_bench_batch)

    bench_stores = commands.add_parser(
        "bench-stores", parents=[index, as_json], help="measure the Milvus store against the FAISS store",
        description="Over a BEIR dataset, FAISS files (cached in .cache/) beside Milvus (a Milvus Lite server "
        "started on 127.0.0.1 over --milvus-data, reached as a replica reaches a server): nDCG@10 on the test split "
        "and how often both give the same top 3 sources, memory of the searching process and of Milvus and disk "
        "per passage, questions per second one at a time and batched. Each index is built first if missing "
        "(SciFact: some 15 minutes each on 2 cores).")
    beir_option(bench_stores)
    bench_stores.add_argument("--milvus-data", type=Path, metavar="DIR",
                              help="the Milvus Lite data folder (default: .cache/NAME-milvus.db)")
    bench_stores.add_argument("--questions", type=int, default=STORE_QUESTIONS, metavar="N",
                              help=f"questions asked by each path at each level (default: {STORE_QUESTIONS})")
    bench_stores.set_defaults(run=run_bench_stores)

    bench_uploads = commands.add_parser(
        "bench-uploads", parents=[index, as_json], help="measure refusing hostile documents (a Word zip bomb, a "
        "slow PDF)",
        description="Makes a real Word zip bomb (1.3 MB that unzips to 1.2 GB) and a PDF whose 60 pages share one "
        "3 MB content stream, reads each in a fresh process as a build does (within the config's "
        "[retrieval.reading] bounds), and prints how long refusing it took and the peak memory of the reading "
        "(the reading process and its reader worker). About a minute, most of it making the bomb.")
    bench_uploads.add_argument("--folder", type=Path, metavar="DIR", help="keep the hostile files here "
                               "(default: a temporary folder, deleted after)")
    bench_uploads.add_argument("--time-folders", type=Path, nargs="+", metavar="DIR", default=[],
                               help="also time reading these folders of ordinary documents, within bounds and "
                               "unbounded (each file by its reader in this process)")
    bench_uploads.set_defaults(run=run_bench_uploads)

    bench_libraries = commands.add_parser(
        "bench-libraries", parents=[index], help="measure many servers' own libraries beside the shared one",
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


def concurrency_levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers like 1,8,32: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"each number of askers must be 1 or more: {text!r}")
    return levels


def run_bench_command(args: argparse.Namespace, config: RetrievalConfig) -> int:
    if not args.plain_only and not (args.scifact and (args.scifact / "corpus.jsonl").is_file()):
        raise RetrievalError(f"{args.scifact or 'no folder'} is not a BEIR SciFact folder; pass --scifact DIR "
                             "(or --plain-only)")
    print(run_bench(args.scifact, config.sources, default_gold(config.sources),
                    tuple(args.backends), args.json, args.large, tuple(args.large_kinds), args.plain_only,
                    config.model_cache))
    return 0


def run_soak(args: argparse.Namespace, config: RetrievalConfig) -> int:
    questions = soak_questions(args.beir)[:args.limit]
    retriever = cached_retriever(args, config, args.beir / "corpus.jsonl")
    with tqdm(total=len(questions), desc="Soaking", unit="question") as bar:
        figures = soak(retriever, questions, bar.update)
    print(json.dumps(asdict(figures), indent=1) if args.json else figures.table())
    return EXIT_ERROR if figures.errors else 0


def run_bench_stores(args: argparse.Namespace, config: RetrievalConfig) -> int:
    queries, qrels = load_beir(args.beir, "test")
    if args.questions < 1:
        raise RetrievalError("--questions takes a number of questions, 1 or more")
    corpus = args.beir / "corpus.jsonl"
    faiss_index = args.index or cached_index(corpus)
    milvus_data = args.milvus_data or faiss_index.with_name(faiss_index.name.replace("-index", "-milvus.db"))
    encoder = load_encoder(resolve_model(config.model, config.model_sha256, config.backend), config.batch_size,
                           config.model_cache)
    figures, same = bench_stores(config, corpus, faiss_index, milvus_data, f"eval_{faiss_index.name}".replace(
        "-", "_"), encoder, queries, qrels, args.questions, LOG.info)
    print(json.dumps({"stores": [asdict(f) for f in figures], "same_top3": same}, indent=1) if args.json
          else stores_table(figures, same))
    return 0


def run_bench_uploads(args: argparse.Namespace, config: RetrievalConfig) -> int:
    folders = [time_folder(folder, config.reading) for folder in args.time_folders]
    results = run_upload_bench(config.reading, args.folder)
    if args.json:
        print(json.dumps({"hostile": [asdict(r) for r in results], "folders": [asdict(f) for f in folders]},
                         indent=1))
    else:
        print(upload_table(results) + (f"\n\n{folders_table(folders)}" if folders else ""))
    return 0


def run_bench_libraries(args: argparse.Namespace, config: RetrievalConfig) -> int:
    if args.servers < 1 or args.questions < 1:
        raise RetrievalError("--servers and --questions take a number, 1 or more")
    encoder = load_encoder(resolve_model(config.model, config.model_sha256, config.backend), config.batch_size,
                           config.model_cache)
    print(libraries_table(bench_libraries(config, encoder, args.servers, args.work, args.questions, LOG.info)))
    return 0


def run_bench_batch(args: argparse.Namespace, config: RetrievalConfig) -> int:
    settings = serve_settings_from(args, config.serve)
    queries = list(load_beir(args.beir, "train")[0].values()) + list(load_beir(args.beir, "test")[0].values())
    if args.questions < 1:
        raise RetrievalError("--questions takes a number of questions, 1 or more")
    retriever = cached_retriever(args, config, args.beir / "corpus.jsonl")
    figures = bench_batching(retriever, queries, args.concurrency, args.questions, settings, LOG.info)
    print(json.dumps(batch_json(figures), indent=1) if args.json else batch_table(figures, settings))
    return 0
