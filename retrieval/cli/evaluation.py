"""The commands that measure answers: `eval` (a gold file, a question set, its formats, a BEIR dataset, follow-ups,
the bot's question log) and `calibrate` (fit the gate); arguments in, tables or JSON out."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from dataclasses import asdict, replace
from pathlib import Path

from ..config import RetrievalConfig
from ..errors import RetrievalError
from ..evaluate.calibrate import asked_of, fit, fit_blend, judge
from ..evaluate.corpora import CACHE, cached_index
from ..evaluate.evaluate import (
    beir_table,
    default_gold,
    evaluate_beir,
    evaluate_gold,
    gold_table,
    load_beir,
    load_gold,
    load_question_set,
    to_json,
)
from ..evaluate.followups import evaluate_followups, followup_table, load_followups
from ..evaluate.formats import evaluate_formats, formats_table, write_formats
from ..evaluate.writers import read_articles
from ..loader import open_retriever
from ..questions.report import report_from_file
from ..settings import FUSIONS, MODES, SearchSettings
from .common import DEFAULTS, SharedOptions, cached_retriever, opened, settings_from


def add_commands(commands: argparse._SubParsersAction, shared: SharedOptions) -> None:
    evaluate = commands.add_parser(
        "eval", parents=[shared.index, shared.as_json, shared.gate], help="measure retrieval on a gold file, a "
        "question set or a BEIR dataset",
        description="With --gold (the default): ask every question of a gold file (TOML [[question]] tables "
        "with `q` and verbatim `expect` snippets; none for off-topic questions) and print top-1/top-3 accuracy, "
        "MRR@10, how often the 'covered?' gate answers and keeps the right passage, passages shown per answer, "
        "the off-topic silence and the median time. With --questions DIR: the same on DIR/docs and "
        "DIR/questions.jsonl (laid out like the SQuAD development articles, docs/evaluation.md). With --formats "
        "DIR: the same questions over DIR/docs written as PDF, web page, Word and Markdown, one column a format "
        "(first mode only). With --beir DIR: index DIR/corpus.jsonl (once, into --index or .cache/) and print "
        "nDCG@10, MRR@10 and Recall@1/3/10/100 on a split. Every retrieval mode is measured side by side.")
    evaluate.add_argument("--gold", type=Path, default=None,
                          help="gold file (default: gold.toml beside the sources the index was built "
                          "from)")
    evaluate.add_argument("--beir", type=Path, metavar="DIR", help="a BEIR dataset folder (corpus.jsonl, "
                          "queries.jsonl, qrels/)")
    evaluate.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    evaluate.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="modes to compare")
    evaluate.add_argument("--questions", type=Path, metavar="DIR", help="a question set: DIR/docs/ (the "
                          "documents) and DIR/questions.jsonl (`q`, `expect`)")
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
                          "in context (docs/answers.md)")
    evaluate.add_argument("--late-interaction", action=argparse.BooleanOptionalAction, help="rank and judge with "
                          "(or without) re-reading the first passages word piece by word piece (MaxSim; default from "
                          f"config: {'on' if DEFAULTS.late_interaction else 'off'})")
    evaluate.set_defaults(run=run_eval)

    calibrate = commands.add_parser(
        "calibrate", parents=[shared.index], help="fit the gate and the relevance model on development data",
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
    folders = write_formats(read_articles(args.formats / "docs"), CACHE / "formats" / args.formats.name, font)
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


def run_calibrate(args: argparse.Namespace, config: RetrievalConfig) -> int:
    """Fit the gate and the relevance model on each --set's questions asked of its corpus."""
    asked = asked_of(args.set)
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
