"""What each command line command does, once its arguments are parsed: thin calls into the library."""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from itertools import islice
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from ..benchmarks.backends import run_bench
from ..benchmarks.batching import batch_table, bench_batching
from ..benchmarks.batching import to_json as batch_json
from ..benchmarks.libraries import bench_libraries, libraries_table
from ..benchmarks.soak import soak, soak_questions
from ..benchmarks.stores import bench_stores, stores_table
from ..benchmarks.uploads import folders_table, run_upload_bench, time_folder, upload_table
from ..config import RetrievalConfig
from ..encode.embed import load_encoder, resolve_model
from ..errors import IndexMissing, IndexProblem, RetrievalError
from ..evaluate.calibrate import Asked, fit, fit_blend, judge
from ..evaluate.evaluate import (
    GoldQuestion,
    beir_table,
    default_gold,
    evaluate_beir,
    evaluate_gold,
    gold_table,
    load_beir,
    load_gold,
    load_question_set,
    read_jsonl,
    to_json,
)
from ..evaluate.followups import evaluate_followups, followup_table, load_followups
from ..evaluate.formats import evaluate_formats, formats_table, write_formats
from ..evaluate.writers import read_articles
from ..loader import build_from, open_retriever
from ..questions.report import report_from_file
from ..records import Role
from ..search.retriever import Answer, Retriever, clean_question
from ..search.utf8 import check_utf8, printable
from ..service.payloads import sources_json
from ..settings import SearchSettings, ServeSettings, SettingError
from ..store.places import FaissFolder, place_of
from .pages import on_page
from .render import MARK_OFF, MARK_ON, PLAIN_MARKS, WRAP_COLUMNS, render

BEIR_CACHE = Path(".cache")
T = TypeVar("T")
EXIT_ERROR = 1
LOG = logging.getLogger(__name__)


def run_build(args: argparse.Namespace, config: RetrievalConfig) -> int:
    sources = args.sources or config.sources
    index = place_of(config, args.index)
    # progress bars (embedding, and each long PDF's pages) on stderr; none for --quiet, nor for --json's scripts
    manifest = build_from(config, sources, args.index, progress=not (args.quiet or args.json), reuse=not args.full,
                          vectors_from=args.vectors_from)
    if args.json:
        print(json.dumps(manifest.__dict__, indent=1))
    else:
        reused = manifest.vectors - manifest.embedded
        print(f"indexed {manifest.vectors} passages from {manifest.sources} sources into {index} "
              f"in {manifest.build_seconds:.1f} s ({manifest.embedded} embedded, {reused} reused from the previous "
              "build)")
        if manifest.skipped:
            count = len(manifest.skipped)
            print(f"skipped {count} file{'s' if count > 1 else ''}: "
                  + ", ".join(f"{s['file']} ({s['reason']})" for s in manifest.skipped))
    return 0


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
    """`python -m retrieval show` with the options that found this index, for the footer to name."""
    given = [f"{option} {shlex.quote(str(value))}" for option, value in (("--config", args.config),
                                                                        ("--index", args.index)) if value]
    return " ".join(["python -m retrieval show", *given])


def opened(args: argparse.Namespace, config: RetrievalConfig, **options) -> Retriever:
    """open_retriever for a command. A folder named with --index is opened, never made on first use (only the
    configured index is): a mistyped path must not quietly become a new index of other sources."""
    if args.index is not None and not getattr(args, "rebuild", False):
        try:
            FaissFolder(args.index).manifest()
        except IndexMissing:
            raise IndexMissing(f"no index at {args.index}; build one there first with `python -m retrieval build "
                               f"SOURCES --index {args.index}`, or leave --index out for the configured index "
                               f"({config.index})") from None
        except IndexProblem:
            pass  # damaged, stale, or not an index folder: open_retriever says which (or rebuilds, when allowed)
    return open_retriever(config, index=args.index, **options)


def first_of(questions: Iterator[T]) -> Iterator[T]:
    """The questions, once the first is in: an empty file or standard input is an error, not a silent exit 0."""
    first = next(questions, None)
    if first is None:
        raise RetrievalError("no questions to answer: the input is empty; give one question a line (on standard "
                             'input or with --file FILE), or ask one: python -m retrieval search "your question"')
    return itertools.chain([first], questions)


# Command line options laid over [retrieval.search]: option attribute -> setting (and how to read it).
SETTING_OPTIONS = {"k": "top_k", "mode": "mode", "fusion": "fusion", "dense_weight": "dense_weight",
                   "min_relevance": "min_relevance", "min_score": "min_score", "clear": "clear",
                   "related": "related"}


def settings_from(args: argparse.Namespace, configured: SearchSettings) -> SearchSettings:
    """The config's search settings with the command line's options laid over them, checked the same way."""
    given = {setting: getattr(args, option) for option, setting in SETTING_OPTIONS.items()
             if getattr(args, option, None) is not None}
    if getattr(args, "passage_vectors_only", False):
        given["sentence_vectors"] = given["context_vectors"] = False
    if getattr(args, "without_context", False):
        given["context_vectors"] = False
    if getattr(args, "without_late_interaction", False):
        given["late_interaction"] = False
    try:
        return replace(configured, **given)
    except SettingError as exc:
        raise RetrievalError(f"{str(exc).replace('`top_k`', '`-k`')} (command line)") from None


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


def run_show(args: argparse.Namespace, config: RetrievalConfig) -> int:
    retriever = opened(args, config)
    source = retriever.source(args.source_id)
    passages = retriever.passages_of(source.id)
    if args.paragraph is not None:
        last = passages[-1].paragraph if passages else 0
        if not 1 <= args.paragraph <= last:
            raise RetrievalError(f"{source.id} has no paragraph {args.paragraph}; it has 1 to {last}")
        passages = [p for p in passages if p.paragraph == args.paragraph]  # a long paragraph has several parts
    if args.page is not None:
        passages = on_page(source.id, passages, args.page)
    if args.json:
        print(json.dumps({"source": source.to_dict(), "passages": [p.to_dict() for p in passages]},
                         ensure_ascii=False, indent=1))
        return 0
    facts = {k: v for k, v in source.to_dict().items() if v and k != "id"}
    print(f"{source.id}\n" + "\n".join(f"  {k}: {v}" for k, v in facts.items()) + "\n")
    for passage in passages:
        tag = "" if passage.role is Role.BODY else f" ({passage.role})"
        page = f", p. {passage.page}" if passage.page is not None else ""
        print(f"¶{passage.paragraph}{page}{tag}" + (" (continued)" if passage.part > 1 else ""))
        print(textwrap.fill(passage.text, WRAP_COLUMNS, initial_indent="   ", subsequent_indent="   ") + "\n")
    return 0


def run_bench_command(args: argparse.Namespace, config: RetrievalConfig) -> int:
    if not (args.scifact / "corpus.jsonl").is_file():
        raise RetrievalError(f"{args.scifact} is not a BEIR SciFact folder; pass --scifact DIR")
    print(run_bench(args.scifact, config.sources, default_gold(config.sources),
                    tuple(args.backends), args.json, args.large, tuple(args.large_kinds)))
    return 0


def run_eval(args: argparse.Namespace, config: RetrievalConfig) -> int:
    settings = settings_from(args, config.search)
    modes = [replace(settings, mode=mode) for mode in args.modes]
    if args.beir:
        queries, qrels = load_beir(args.beir, args.split)
        retriever = cached_retriever(args, config, args.beir / "corpus.jsonl")
        reports = [evaluate_beir(retriever, queries, qrels, mode) for mode in modes]
        title, text = f"{args.beir.name} {args.split}: {len(qrels)} queries", beir_table(reports)
    elif args.formats:
        return run_formats_eval(args, config, modes[0])
    elif args.feedback:
        found = report_from_file(args.feedback, args.days)
        print(json.dumps(found.to_dict(), ensure_ascii=False, indent=1) if args.json else found.csv() if args.csv
              else found.gold() if args.gold_out else found.table())
        return 0
    elif args.followups:
        pairs = load_followups(args.followups)
        retriever = opened(args, config)
        retriever.settings = modes[0]
        reports = evaluate_followups(retriever, pairs)
        if args.json:
            print(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=1))
        else:
            print(f"follow-ups {args.followups}: {len(pairs)} pairs\n{followup_table(reports)}")
        return 0
    elif args.questions:
        questions = load_question_set(args.questions, args.off_topic)
        retriever = cached_retriever(args, config, args.questions / "docs")
        reports = [evaluate_gold(retriever, questions, mode) for mode in modes]
        title, text = f"question set {args.questions}", gold_table(reports)
    else:
        retriever = opened(args, config)
        # beside the sources the index holds, which after `build ../mydocs` are not the config's
        gold = args.gold or default_gold(Path(retriever.index.manifest.sources_path))
        questions = load_gold(gold)
        reports = [evaluate_gold(retriever, questions, mode) for mode in modes]
        title, text = f"gold file {gold}", gold_table(reports)
    print(json.dumps(to_json(reports), ensure_ascii=False, indent=1) if args.json else f"{title}\n{text}")
    return 0


def run_formats_eval(args: argparse.Namespace, config: RetrievalConfig, settings: SearchSettings) -> int:
    """`eval --formats DIR`: DIR's articles as each format, indexed in .cache/, asked DIR's questions (in the
    first of --modes, hybrid by default)."""
    if args.font and not args.font.is_file():
        raise RetrievalError(f"font {args.font} not found; give a .ttf file, or leave --font out for DejaVu Sans")
    font = args.font or unicode_font()
    folders = write_formats(read_articles(args.formats / "docs"), BEIR_CACHE / "formats" / args.formats.name, font)
    reports = evaluate_formats(args.formats, folders, lambda folder: cached_retriever(args, config, folder), settings)
    if args.json:
        print(json.dumps([asdict(r) for r in reports], ensure_ascii=False, indent=1))
    else:
        print(f"question set {args.formats} in each format\n{formats_table(reports)}")
    return 0


def unicode_font() -> Path:
    """DejaVu Sans, as fontconfig finds it: the PDF writer's built-in fonts know only Latin-1."""
    found = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True,
                           check=False) if shutil.which("fc-match") else None
    path = Path(found.stdout) if found and found.returncode == 0 else None
    if path is None or "DejaVu" not in path.name or not path.is_file():
        raise RetrievalError("no Unicode font for the PDFs: install DejaVu Sans (apt-get install "
                             "fonts-dejavu-core) or pass --font FILE.ttf")
    return path


def cached_retriever(args: argparse.Namespace, config: RetrievalConfig, sources: Path) -> Retriever:
    """The index of an evaluation corpus: --index if given (only ever reported when stale), else one cached in
    .cache/ (or, with store = "milvus", in the configured Milvus under a name of its own) that is ours to remake
    when stale."""
    if args.index:  # built there on first use, as the evaluation commands' help says
        return open_retriever(config, sources=sources, index=args.index)
    if config.store == "milvus":
        name = f"eval_{cached_index(sources).name.replace('-', '_')}"
        return open_retriever(replace(config, auto_build="stale", milvus_collection=name), sources=sources)
    return open_retriever(replace(config, auto_build="stale"), sources=sources, index=cached_index(sources))


def run_sources(args: argparse.Namespace, config: RetrievalConfig) -> int:
    retriever = opened(args, config, progress=True)
    rows = sources_json(retriever)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for row in rows:
        who = ", ".join(str(x) for x in (row["author"], row["date"]) if x) or "author and date unknown"
        print(f"{row['id']}  {row['title']}  ({who}; {row['passages']} passages)")
    return 0


def run_calibrate(args: argparse.Namespace, config: RetrievalConfig) -> int:
    """Fit the gate and the relevance model on each --set's questions asked of its corpus."""
    asked: dict[Path, list[Asked]] = {}
    for sources, questions in args.set:
        path = Path(sources)
        asked.setdefault(path, []).extend(Asked(str(path), Path(questions).name, q)
                                          for q in load_questions(Path(questions)))
    retrievers = {path: open_retriever(replace(config, auto_build="stale"), sources=path, index=cached_index(path))
                  for path in asked}
    judged = [each for path, questions in asked.items() for each in judge(retrievers[path], questions)]
    late_blend = fit_blend(judged)
    if late_blend is not None:  # the other models are fitted on the passages in the order this blend gives them
        for retriever in retrievers.values():
            retriever.late_blend = late_blend
        judged = [each for path, questions in asked.items() for each in judge(retrievers[path], questions)]
    fitted = fit(judged, args.covered_at)
    if late_blend is not None:
        fitted["late_blend"] = [round(w, 3) for w in late_blend]
    print(json.dumps(fitted, indent=1))
    return 0


def load_questions(path: Path) -> list[GoldQuestion]:
    """A gold TOML file, or a .jsonl of `q` (or BEIR `text`) records with optional `expect` snippets."""
    if path.suffix != ".jsonl":
        return load_gold(path)
    return [GoldQuestion(r.get("q") or r["text"], list(r.get("expect", [])), path.stem) for r in read_jsonl(path)]


def cached_index(sources: Path) -> Path:
    """Where an evaluation corpus is indexed: .cache/NAME-index, NAME being a BEIR dataset's folder (for its
    corpus.jsonl) or the last two parts of a documents folder's path."""
    path = sources.resolve()
    name = path.parent.name if path.suffix == ".jsonl" else "-".join(path.parts[-2:])
    return BEIR_CACHE / f"{name.replace('.', '-')}-index"


def run_soak(args: argparse.Namespace, config: RetrievalConfig) -> int:
    questions = soak_questions(args.beir)[:args.limit]
    retriever = cached_retriever(args, config, args.beir / "corpus.jsonl")
    with tqdm(total=len(questions), desc="Soaking", unit="question") as bar:
        figures = soak(retriever, questions, bar.update)
    print(json.dumps(asdict(figures), indent=1) if args.json else figures.table())
    return EXIT_ERROR if figures.errors else 0


def serve_settings_from(args: argparse.Namespace, configured: ServeSettings) -> ServeSettings:
    """The config's [retrieval.serve] settings with the command line's options laid over them."""
    given = {name: getattr(args, name) for name in ("max_batch", "max_wait_ms", "host", "port")
             if getattr(args, name, None) is not None}
    try:
        return replace(configured, **given)
    except SettingError as exc:
        raise RetrievalError(f"{exc} (command line)") from None


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


def run_serve(args: argparse.Namespace, config: RetrievalConfig) -> int:
    from ..service.app import serve  # FastAPI and uvicorn are imported only by this command

    settings = serve_settings_from(args, config.serve)
    serve(opened(args, config), settings)
    return 0
