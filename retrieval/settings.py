"""How a question is searched and cut: one typed record, its allowed values defined once, checked on creation
(by the TOML loader, the command line and Python callers alike)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from .errors import ConfigError

Mode = Literal["hybrid", "dense", "lexical"]
Fusion = Literal["weighted", "rrf"]
MODES: tuple[str, ...] = get_args(Mode)
FUSIONS: tuple[str, ...] = get_args(Fusion)
MAX_SEARCH_K = 1000  # batch evaluation asks for the top 100 or more; a reader sees far fewer


class SettingError(ConfigError, ValueError):
    """A setting outside its allowed values; the config loader adds the file and table it came from."""


@dataclass(frozen=True)
class SearchSettings:
    """Ranking, the "covered?" decision and how many passages are shown. Figures behind each default are in
    BENCHMARKS.md ("Answer precision"); they were tuned on development data only."""

    mode: Mode = "hybrid"
    fusion: Fusion = "weighted"
    # Share of the dense score in weighted fusion, chosen on SciFact's train split with sentence vectors
    # (0.6: nDCG@10 0.741; 0.7: 0.727; 0.8: 0.710; BENCHMARKS.md).
    dense_weight: float = 0.6
    # A passage's dense score is the best of its own cosine and its best sentence's.
    sentence_vectors: bool = True
    top_k: int = 3  # the most passages shown; fewer when the rest are not close to the first
    # The question counts as covered when the first passage's calibrated probability of answering reaches this.
    min_relevance: float = 0.5
    # ...and its cosine reaches this floor, so a passage sharing only a rare word with the question never leads.
    min_score: float = 0.2
    # A later passage is shown only when its fused score is within this of the first's.
    margin: float = 0.1
    max_question_chars: int = 2000
    # A local sentence-transformers CrossEncoder folder that re-orders the first `rerank_depth` candidates;
    # off by default: no cross-encoder can be installed here (README, "Re-ranking with a cross-encoder").
    reranker: Path | None = None
    rerank_depth: int = 20

    def __post_init__(self) -> None:
        choose("mode", self.mode, MODES)
        choose("fusion", self.fusion, FUSIONS)
        within("dense_weight", self.dense_weight, 0.0, 1.0)
        within("top_k", self.top_k, 1, MAX_SEARCH_K)
        within("min_relevance", self.min_relevance, 0.0, 1.0)
        within("min_score", self.min_score, -1.0, 1.0)
        within("margin", self.margin, 0.0, 1.0)
        within("max_question_chars", self.max_question_chars, 1, 100_000)
        within("rerank_depth", self.rerank_depth, 1, 1000)
        if self.reranker is not None:
            object.__setattr__(self, "reranker", Path(self.reranker))


def choose(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SettingError(f"`{name}` must be one of {', '.join(map(repr, allowed))}, not {value!r}")


def within(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) or not low <= value <= high:
        raise SettingError(f"`{name}` must be between {low} and {high}, not {value!r}")


# Questions answered together at most; chosen with `python -m retrieval bench-batch` (BENCHMARKS.md, "Batched
# questions"): past it a batch's FAISS products and model call grow in time as fast as the batch itself.
MAX_BATCH = 32
# How long the first question of a batch may wait for others (ms); a bound on the wait batching adds.
MAX_WAIT_MS = 5.0
DEFAULT_PORT = 8780


@dataclass(frozen=True)
class ServeSettings:
    """How questions that arrive together are batched, and where `python -m retrieval serve` listens."""

    max_batch: int = MAX_BATCH
    max_wait_ms: float = MAX_WAIT_MS
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT

    def __post_init__(self) -> None:
        within("max_batch", self.max_batch, 1, 1024)
        within("max_wait_ms", self.max_wait_ms, 0.0, 10_000.0)
        within("port", self.port, 1, 65535)


# A fresh reader process's reading of the largest documents allowed (max_file_mb, 20 MB) measured here: a 20 MB
# web page took 8.3 s and 490 MB more address space, a 753-page PDF 5.2 s and 140 MB, 20 MB of Markdown 2.6 s and
# 160 MB (BENCHMARKS.md, "Hostile uploads"). The defaults leave several times that room, and still stop a file
# built to take minutes (a PDF whose pages share one 3 MB content stream: 24 s a page) or gigabytes.
READ_SECONDS = 60.0
READ_MEMORY_MB = 1024.0
# A Word file is a zip of XML parts; what its parts say they unzip to, all together. A 20 MB Word file of text
# (XML unzips about 10 times) stays within it; a zip bomb (1.3 MB that unzips to 1.2 GB) does not.
MAX_UNZIPPED_MB = 200.0


@dataclass(frozen=True)
class ReadSettings:
    """Bounds on reading one document, in a build and in /add-source alike: how long its reader may take, how much
    memory beyond its own start, and what a Word file's parts may unzip to. A file past one is refused with the
    reason (the [retrieval.reading] table; README, "Limits")."""

    seconds: float = READ_SECONDS
    memory_mb: float = READ_MEMORY_MB
    max_unzipped_mb: float = MAX_UNZIPPED_MB

    def __post_init__(self) -> None:
        within("seconds", self.seconds, 0.01, 86_400.0)
        within("memory_mb", self.memory_mb, 16.0, 1_000_000.0)
        within("max_unzipped_mb", self.max_unzipped_mb, 0.01, 1_000_000.0)


DEFAULT_READING = ReadSettings()  # for callers that state no bounds of their own
