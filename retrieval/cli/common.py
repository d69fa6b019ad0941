"""What every group of commands shares: the parser that fails in one line, the parent parsers of the options many
commands take (--config and --index, --json, the gate's), and opening the index a command names."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

from ..config import RetrievalConfig
from ..errors import IndexMissing, IndexProblem, RetrievalError
from ..loader import open_retriever
from ..search.retriever import Retriever
from ..settings import SearchSettings, ServeSettings, SettingError
from ..store.places import FaissFolder

EXIT_ERROR = 1
DEFAULTS = SearchSettings()


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is a one-line error with exit code 1, like every other."""

    def error(self, message: str) -> NoReturn:
        raise RetrievalError(f"{message}; see `{self.prog} --help`")


def index_options() -> Parser:
    """--config and --index, which every command takes."""
    options = Parser(add_help=False)
    options.add_argument("--config", type=Path, help="a TOML config file (see config.example.toml); "
                         "without it the defaults are used")
    options.add_argument("--index", type=Path, help="a FAISS index folder (default from config: `index`, or the "
                         "Milvus index when store = \"milvus\"); `build` and the evaluation commands make one there, "
                         "the others only read one: only the configured index is built on first use")
    return options


def json_option() -> Parser:
    """--json, for scripts: the command's result as JSON on stdout, and no progress bars."""
    options = Parser(add_help=False)
    options.add_argument("--json", action="store_true", help="print the result as JSON, for scripts (no progress "
                         "bars)")
    return options


def gate_options() -> Parser:
    """The "covered?" decision's options, shared by `search` and `eval`; checked by SearchSettings."""
    options = Parser(add_help=False)
    options.add_argument("--min-relevance", type=float, metavar="P",
                         help="how likely (0 to 1) the gate must find it that the sources answer the question for "
                         f"it to count as covered (default from config: {DEFAULTS.min_relevance})")
    options.add_argument("--min-score", type=float, metavar="COSINE",
                         help="the cosine (-1 to 1) the first passage must also reach (default from config: "
                         f"{DEFAULTS.min_score})")
    options.add_argument("--clear", type=float, metavar="P", help="show the first passage alone when its relevance "
                         f"(0 to 1) reaches this (default from config: {DEFAULTS.clear})")
    options.add_argument("--related", type=float, metavar="P", help="otherwise show a later passage when its "
                         f"relevance reaches this (default from config: {DEFAULTS.related})")
    return options


@dataclass(frozen=True)
class SharedOptions:
    """The parent parsers a group of commands picks from, made once for the whole command line."""

    index: Parser = field(default_factory=index_options)
    as_json: Parser = field(default_factory=json_option)
    gate: Parser = field(default_factory=gate_options)


def beir_option(command: argparse.ArgumentParser, more: str = "") -> None:
    """--beir DIR, required: the data sets live outside the project, wherever the user keeps them."""
    command.add_argument("--beir", type=Path, required=True, metavar="DIR",
                         help=f"a BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/){more}")


# Command line options laid over [retrieval.search]: option attribute -> setting.
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
    if getattr(args, "late_interaction", None) is not None:
        given["late_interaction"] = args.late_interaction
    try:
        return replace(configured, **given)
    except SettingError as exc:
        raise RetrievalError(f"{str(exc).replace('`top_k`', '`-k`')} (command line)") from None


def serve_settings_from(args: argparse.Namespace, configured: ServeSettings) -> ServeSettings:
    """The config's [retrieval.serve] settings with the command line's options laid over them."""
    given = {name: getattr(args, name) for name in ("max_batch", "max_wait_ms", "host", "port")
             if getattr(args, name, None) is not None}
    try:
        return replace(configured, **given)
    except SettingError as exc:
        raise RetrievalError(f"{exc} (command line)") from None


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


def cached_retriever(args: argparse.Namespace, config: RetrievalConfig, sources: Path) -> Retriever:
    """The index of an evaluation corpus: --index if given (only ever reported when stale), else one cached in
    .cache/ (or, with store = "milvus", in the configured Milvus under a name of its own) that is ours to remake
    when stale."""
    from ..evaluate.corpora import cached_index  # here, so that search and build never import the evaluation

    if args.index:  # built there on first use, as the evaluation commands' help says
        return open_retriever(config, sources=sources, index=args.index)
    if config.store == "milvus":
        name = f"eval_{cached_index(sources).name.replace('-', '_')}"
        return open_retriever(replace(config, auto_build="stale", milvus_collection=name), sources=sources)
    return open_retriever(replace(config, auto_build="stale"), sources=sources, index=cached_index(sources))
