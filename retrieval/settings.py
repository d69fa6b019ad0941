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
# Passages re-read by late interaction at most: each not remembered is read by the model at question time
# (BENCHMARKS.md, "Late interaction": 5 cost 3.5-4x the rest of a search), so 50 would cost dozens of searches.
MAX_LATE_DEPTH = 50


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
    # A passage's dense score is the best of its own cosine and its best sentence's...
    sentence_vectors: bool = True
    # ...and its cosine read after the paragraph before it, less CONTEXT_DISCOUNT (search/retriever.py).
    context_vectors: bool = True
    # The most passages shown: one when the first clearly answers, up to this many when it may not (on the seeds'
    # gold questions the right passage is first for 75.6%, among the first 3 for 91.5%; SQuAD's, 87.5% and 97.7%).
    top_k: int = 4
    # The question counts as covered when the gate's calibrated probability that the sources answer it reaches
    # this (search/coverage.py). With late interaction's gate, no on-topic development question falls between 0.28
    # and 0.37 (the seeds' answered 96.3%, SQuAD's 99.8% throughout), while 0.3 lets through 35% of the seeds'
    # unanswered questions and 3.3% of their chatter, 0.35 25% and none: BENCHMARKS.md, "Late interaction, cheap".
    min_relevance: float = 0.35
    # ...and the first passage's cosine reaches this floor. Off (0) by default: the gate reads the cosine itself,
    # and a floor of 0.2 silenced one seeds gold question more with nothing off-topic silenced in exchange.
    min_score: float = 0.0
    # A first passage at least this likely to answer is shown alone ("clearly right"; the same as "likely answers").
    # Otherwise a later passage is shown when its probability of answering reaches `related`. Both chosen with late
    # interaction's relevance model on the development sets (BENCHMARKS.md, "Late interaction, cheap"): 0.85 and
    # 0.1 show the right passage for 90.2% of the seeds' on-topic questions at 1.58 passages an answer, and 97.9%
    # of SQuAD's at 1.43; 0.8 and 0.035 (round three's, for the model without it) 90.2% at 1.81 and 97.3% at 1.55.
    clear: float = 0.85
    related: float = 0.1
    max_question_chars: int = 2000
    # Refuse a question not in English, with a message naming its language (search/language.py): the packaged
    # model reads English only. Turn off for a model of your own that reads other languages.
    english_only: bool = True
    # A local sentence-transformers CrossEncoder folder that re-orders the first `rerank_depth` candidates;
    # off by default: no cross-encoder can be installed here (docs/answers.md, "Re-ranking with a cross-encoder").
    reranker: Path | None = None
    rerank_depth: int = 20
    # Re-order the first `late_depth` distinct passages by their fused score blended with how well each of the
    # question's word pieces finds its match in the passage (MaxSim over the model's own token vectors,
    # search/late_interaction.py), and let the gate and each passage's relevance read it too. The blend is fitted
    # by `calibrate` (search/coverage.py); the figures behind both defaults are in BENCHMARKS.md ("Late
    # interaction, cheap"). The question's token vectors come from the run that gives its vector, the passages' from
    # the index, which keeps them (store/tokens.py): 2 to 4 ms a question. 8 passages, each read sentence by
    # sentence, cross-validated best on both development sets. An index that kept none (built before they were
    # kept, on Milvus, or past their budget) has the model read the passages at question time: 100-200 ms a
    # question for passages not yet remembered. Turned off, the gate and relevance without it were chosen with
    # min_relevance 0.3, clear 0.8 and related 0.035 (docs/answers.md, "Late interaction").
    late_interaction: bool = True
    late_depth: int = 8

    def __post_init__(self) -> None:
        choose("mode", self.mode, MODES)
        choose("fusion", self.fusion, FUSIONS)
        within("dense_weight", self.dense_weight, 0.0, 1.0)
        within("top_k", self.top_k, 1, MAX_SEARCH_K)
        within("min_relevance", self.min_relevance, 0.0, 1.0)
        within("min_score", self.min_score, -1.0, 1.0)
        within("clear", self.clear, 0.0, 1.0)
        within("related", self.related, 0.0, 1.0)
        within("max_question_chars", self.max_question_chars, 1, 100_000)
        within("rerank_depth", self.rerank_depth, 1, 1000)
        within("late_depth", self.late_depth, 1, MAX_LATE_DEPTH)
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
# A request must arrive whole (headers and body) within this many seconds: the bot's client sends one in well under
# a millisecond; nginx gives 60 s to headers alone, which lets a slow client hold a connection that long.
REQUEST_TIMEOUT_SECONDS = 10.0
# Open connections at most: below the 1,024 file descriptors a process gets by default on Linux (`ulimit -n`),
# with room for the index's files and the replica's own connections (Milvus). The service lowers it at start when
# its own file limit leaves less room (service/descriptors.py).
MAX_CONNECTIONS = 512
# Requests in progress at most; more get 503 at once. Far above what batching needs (max_batch questions at a time).
MAX_REQUESTS = 256


@dataclass(frozen=True)
class ServeSettings:
    """How questions that arrive together are batched, and where `python -m retrieval serve` listens."""

    max_batch: int = MAX_BATCH
    max_wait_ms: float = MAX_WAIT_MS
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    request_timeout_seconds: float = REQUEST_TIMEOUT_SECONDS
    max_connections: int = MAX_CONNECTIONS
    max_requests: int = MAX_REQUESTS

    def __post_init__(self) -> None:
        within("max_batch", self.max_batch, 1, 1024)
        within("max_wait_ms", self.max_wait_ms, 0.0, 10_000.0)
        within("port", self.port, 1, 65535)
        within("request_timeout_seconds", self.request_timeout_seconds, 0.1, 600.0)
        within("max_connections", self.max_connections, 1, 1_000_000)
        within("max_requests", self.max_requests, 1, 1_000_000)


# A fresh reader process's reading of the largest documents allowed (max_file_mb, 20 MB) measured here: a 20 MB
# web page took 8.3 s and 490 MB more address space, a 753-page PDF 5.2 s and 140 MB, 20 MB of Markdown 2.6 s and
# 160 MB (BENCHMARKS.md, "Hostile uploads"). The defaults leave several times that room, and still stop a file
# built to take minutes (a PDF whose pages share one 3 MB content stream: 24 s a page) or gigabytes.
READ_SECONDS = 60.0
READ_MEMORY_MB = 1024.0
# A Word file is a zip of XML parts; what its parts say they unzip to, all together. A 20 MB Word file of text
# (XML unzips about 10 times) stays within it; a zip bomb (1.3 MB that unzips to 1.2 GB) does not.
MAX_UNZIPPED_MB = 200.0
# Passages one document may give. squad-dev's Wikipedia paragraphs average 559 bytes, so a document at the 20 MB
# file limit (max_file_mb) of such prose gives about 36,000; this leaves room for shorter paragraphs (lists,
# dialogue) and still refuses at once a Word file of 200,000 one-word paragraphs (issue 27), which took 110 s and
# 200,004 passages to index with a stand-in encoder, and over ten minutes and 1.7 GB with the real model.
MAX_PASSAGES = 50_000


@dataclass(frozen=True)
class ReadSettings:
    """Bounds on reading one document, in every build (the shared library's, a server's) and in /add-source alike:
    how long its reader may take, how much memory beyond its own start, what a Word file's parts may unzip to, and
    how many passages it may give. A file past one is refused with the reason (the [retrieval.reading] table;
    docs/documents.md, "Limits on reading a document")."""

    seconds: float = READ_SECONDS
    memory_mb: float = READ_MEMORY_MB
    max_unzipped_mb: float = MAX_UNZIPPED_MB
    passages: int = MAX_PASSAGES

    def __post_init__(self) -> None:
        within("seconds", self.seconds, 0.01, 86_400.0)
        within("memory_mb", self.memory_mb, 16.0, 1_000_000.0)
        within("max_unzipped_mb", self.max_unzipped_mb, 0.01, 1_000_000.0)
        within("passages", self.passages, 1, 100_000_000)
        if not isinstance(self.passages, int):
            raise SettingError(f"`passages` must be a whole number, not {self.passages!r}")


DEFAULT_READING = ReadSettings()  # for callers that state no bounds of their own
