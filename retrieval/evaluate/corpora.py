"""Evaluation corpora on disk: a corpus's path in, where its index is cached out; a question file's path in, its
questions out. Shared by the evaluation commands and the benchmarks, which import no command-line module."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from ..config import RetrievalConfig
from ..loader import open_retriever
from ..search.retriever import Retriever
from .evaluate import GoldQuestion, load_gold, read_jsonl

CACHE = Path(".cache")  # where the evaluation and benchmark commands keep the indexes of their corpora


def cached_index(sources: Path) -> Path:
    """Where an evaluation corpus is indexed: .cache/NAME-index, NAME being a BEIR dataset's folder (for its
    corpus.jsonl) or the last two parts of a documents folder's path."""
    path = sources.resolve()
    name = path.parent.name if path.suffix == ".jsonl" else "-".join(path.parts[-2:])
    return CACHE / f"{name.replace('.', '-')}-index"


def open_cached(sources: Path, progress: bool = False) -> Retriever:
    """An evaluation corpus's retriever with the default settings, over its index in .cache/ (built there first,
    and again when stale)."""
    config = RetrievalConfig(sources=sources, index=cached_index(sources), auto_build="stale")
    return open_retriever(config, sources=sources, progress=progress)


def load_questions(path: Path) -> list[GoldQuestion]:
    """A gold TOML file, or a .jsonl of `q` (or BEIR `text`) records with optional `expect` snippets."""
    if path.suffix != ".jsonl":
        return load_gold(path)
    return [GoldQuestion(r.get("q") or r["text"], list(r.get("expect", [])), path.stem) for r in read_jsonl(path)]


def add_corpus_sets(parser: argparse.ArgumentParser) -> None:
    """The benchmarks' repeatable `--set SOURCES QUESTIONS` option: a corpus and a file of its questions."""
    parser.add_argument("--set", nargs=2, action="append", metavar=("SOURCES", "QUESTIONS"), required=True,
                        help="a corpus (folder or corpus.jsonl, indexed in .cache/ as `eval` does) and a file of "
                        "its questions (gold TOML or .jsonl); repeatable")


def corpus_sets(sets: list[tuple[str, str]], progress: bool = False) -> Iterator[tuple[Path, Retriever,
                                                                                      list[GoldQuestion]]]:
    """Each `--set`'s corpus path, its cached retriever (open_cached) and its questions, one set at a time."""
    for sources, questions in sets:
        path = Path(sources)
        yield path, open_cached(path, progress), load_questions(Path(questions))
