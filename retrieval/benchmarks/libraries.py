"""`python -m retrieval bench-libraries`: many servers with a small library each beside the shared one, in one
process as the bot holds them: its memory, a question's time in a server with its own library against one
without, and the time to open a server's library on first use."""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import statistics
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..config import RetrievalConfig
from ..encode.embed import TextEncoder, load_encoder, resolve_model
from ..libraries import Libraries, LibraryLimits
from ..loader import open_retriever
from ..search.retriever import Retriever
from .soak import resident_bytes

MIB = 2**20
DEFAULT_OPEN = 64  # the bot's default server_libraries_open (bot/config.py)
ROUNDS = 6  # each question asked this many times on each side, interleaved, first one side then the other


@dataclass(frozen=True)
class LibraryFigures:
    servers: int
    shared_passages: int
    build_seconds: float
    rss_shared_mb: float  # the model and the shared index, before any server's library
    rss_closed_mb: float  # every server's library built (by another process), none of them open
    rss_all_open_mb: float  # every server's library open at once
    rss_asked_mb: float  # after the timed questions (one server and DMs): what answering itself takes
    rss_default_open_mb: float  # after a question in every server, DEFAULT_OPEN of them left open
    # each question's best of ROUNDS, the median over the questions: on a machine shared with other work the
    # model's time swings tenfold from one minute to the next, and the best of a few asks is what is steady
    question_own_ms: float
    question_shared_ms: float
    ratio: float  # the median over the questions of each one's own / shared
    search_own_ms: float  # the same questions with their vectors known: the part a server's library changes
    search_shared_ms: float
    search_ratio: float
    open_first_ms: float
    open_first_p95_ms: float
    load_average: float  # the machine's 1-minute load during the run: other work slows the model most


class KnownVectors:
    """The model with each text's vector kept after its first encoding: timing a search without the model."""

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder
        self.identity = encoder.identity
        self.dimension = encoder.dimension
        self.known: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], on_batch=None) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.encoder.encode(missing), strict=True))
        if on_batch:
            on_batch(len(texts))
        return np.stack([self.known[t] for t in texts])


def server_document(server: int) -> bytes:
    """A small document of its own for each server: two paragraphs, a few facts only it holds."""
    return (f"Server {server} handbook\n\nMembers of community {server} meet on the first Sunday of each month "
            f"in hall {server % 17}.\n\nThe community {server} library lends {server % 9 + 1} books at a time and "
            "asks for them back within three weeks.\n").encode()


def gold_questions(sources: Path) -> list[str]:
    gold = sources / "gold.toml"
    return [q["q"] for q in tomllib.loads(gold.read_text())["question"]] if gold.exists() else []


def median_ms(timings: list[float]) -> float:
    return round(statistics.median(timings) * 1000, 2)


def bench_libraries(config: RetrievalConfig, encoder: TextEncoder, servers: int, work: Path, questions: int,
                    log: Callable[[str], None]) -> LibraryFigures:
    """Build the shared index (the config's sources) and `servers` libraries under `work`, then measure."""
    shutil.rmtree(work, ignore_errors=True)
    config = replace(config, index=work / "index")
    shared = open_retriever(config, rebuild=True, progress=False, encoder=encoder)
    asked = (gold_questions(config.sources) or ["What do the sources say?"])[:questions]
    gc.collect()
    rss_shared = resident_bytes()
    limits = LibraryLimits(documents=20, megabytes=50.0, open=DEFAULT_OPEN, grace_days=30)
    # in a process of its own, so that what building allocates is not counted as what opened libraries hold
    log(f"[bench-libraries] building {servers} servers' libraries")
    spawn = multiprocessing.get_context("spawn")  # not fork: torch's threads do not survive a fork
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as builder:
        build_seconds = builder.submit(build_servers, config, limits, servers, frozenset(shared.sources)).result()
    rss_closed = resident_bytes()

    log("[bench-libraries] opening libraries on first use, then every one")
    everything = Libraries(config, work / "servers", replace(limits, open=servers), encoder)  # a restart
    opening = []
    for server in range(1, servers + 1):
        began = time.perf_counter()
        everything.retriever_for(server, shared)
        opening.append(time.perf_counter() - began)
    gc.collect()
    rss_all = resident_bytes()
    del everything
    gc.collect()

    log("[bench-libraries] questions in a server with its own library and in one without")
    libraries = Libraries(config, work / "servers", limits, encoder)
    own_times, shared_times = timed(libraries, shared, asked)
    known = Retriever(shared.index, KnownVectors(encoder), shared.settings, shared.reranker)
    known.encoder.encode(asked)
    search_own, search_shared = timed(Libraries(config, work / "servers", limits, encoder), known, asked)

    gc.collect()
    rss_asked = resident_bytes()
    log("[bench-libraries] a question in every server")
    for server in range(1, servers + 1):
        libraries.retriever_for(server, shared).answer(asked[0])
    gc.collect()
    rss_default = resident_bytes()
    return LibraryFigures(servers, shared.index.count, round(build_seconds, 1), round(rss_shared / MIB, 1),
                          round(rss_closed / MIB, 1), round(rss_all / MIB, 1), round(rss_asked / MIB, 1),
                          round(rss_default / MIB, 1),
                          *paired(own_times, shared_times), *paired(search_own, search_shared), median_ms(opening),
                          round(sorted(opening)[int(0.95 * (len(opening) - 1))] * 1000, 2), os.getloadavg()[0])


def build_servers(config: RetrievalConfig, limits: LibraryLimits, servers: int, reserved: frozenset[str]) -> float:
    """Give servers 1..`servers` their document, each indexed as /add-source does; the seconds it took."""
    encoder = load_encoder(resolve_model(config.model, config.model_sha256, config.backend), config.batch_size,
                           config.model_cache)
    start = time.perf_counter()
    libraries = Libraries(config, config.index.parent / "servers", limits, encoder)
    for server in range(1, servers + 1):
        libraries.add(server, "handbook.txt", server_document(server), config.max_file_mb, reserved)
    return time.perf_counter() - start


def timed(libraries: Libraries, shared: Retriever, asked: list[str]) -> tuple[list[float], list[float]]:
    """Each question's best time in server 1 (its own library) and in a DM (the shared alone) over ROUNDS,
    interleaved, the side that goes first alternating each round."""
    own, alone = [[0.0] * ROUNDS for _ in asked], [[0.0] * ROUNDS for _ in asked]
    sides = [(1, own), (None, alone)]
    for round_number in range(ROUNDS):
        for at, question in enumerate(asked):
            for server, timings in sides if round_number % 2 else sides[::-1]:
                began = time.perf_counter()
                libraries.retriever_for(server, shared).answer(question)
                timings[at][round_number] = time.perf_counter() - began
    return [min(each) for each in own], [min(each) for each in alone]


def paired(own: list[float], alone: list[float]) -> tuple[float, float, float]:
    """Median milliseconds of each side, and the median of each question's ratio."""
    return median_ms(own), median_ms(alone), round(statistics.median(a / b for a, b in zip(own, alone,
                                                                                           strict=True)), 2)


def libraries_table(f: LibraryFigures) -> str:
    rows = [("servers with a library of their own", f"{f.servers} (one small document each)"),
            ("shared library", f"{f.shared_passages} passages"),
            ("building every server's library", f"{f.build_seconds} s"),
            ("process memory: model + shared index", f"{f.rss_shared_mb} MB"),
            ("... every server's library built, none open", f"{f.rss_closed_mb} MB"),
            (f"... every server's library open ({f.servers})", f"{f.rss_all_open_mb} MB "
             f"({(f.rss_all_open_mb - f.rss_closed_mb) * 1024 / f.servers:.0f} KB each)"),
            ("... after the timed questions (one server's library and DMs)", f"{f.rss_asked_mb} MB"),
            (f"... after a question in every server ({DEFAULT_OPEN} kept open)", f"{f.rss_default_open_mb} MB"),
            (f"question, server with its own library (best of {ROUNDS}, median)", f"{f.question_own_ms} ms"),
            ("question, shared library only", f"{f.question_shared_ms} ms"),
            ("ratio own / shared", f"{f.ratio:.2f}"),
            ("search once the question's vector is known, own", f"{f.search_own_ms} ms"),
            ("... shared library only", f"{f.search_shared_ms} ms"),
            ("... ratio own / shared", f"{f.search_ratio:.2f}"),
            ("opening a server's library on first use", f"median {f.open_first_ms} ms, p95 {f.open_first_p95_ms} ms"),
            ("machine's load average (1 min) at the end", f"{f.load_average:.1f} on {os.cpu_count()} cores")]
    width = max(len(name) for name, _ in rows)
    return "\n".join([f"| {'measure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|",
                      *(f"| {name.ljust(width)} | {value} |" for name, value in rows)])
