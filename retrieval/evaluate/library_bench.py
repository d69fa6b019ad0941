"""`python -m retrieval bench-libraries`: many servers with a small library each beside the shared one, in one
process as the bot holds them: its memory, a question's time in a server with its own library against one
without, and the time to open a server's library on first use."""

from __future__ import annotations

import gc
import shutil
import statistics
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import RetrievalConfig
from ..encode.embed import TextEncoder
from ..libraries import Libraries, LibraryLimits
from ..loader import open_retriever
from .soak import resident_bytes

MIB = 2**20
DEFAULT_OPEN = 64  # the bot's default server_libraries_open (bot/config.py)
ROUNDS = 3  # each question asked this many times on each side, interleaved, for a steady median
FIRST_USES = 50  # servers whose library is opened cold, for the median


@dataclass(frozen=True)
class LibraryFigures:
    servers: int
    shared_passages: int
    build_seconds: float
    rss_shared_mb: float  # the model and the shared index, before any server's library
    rss_default_open_mb: float  # after a question in every server, DEFAULT_OPEN of them left open
    rss_all_open_mb: float  # every server's library open at once
    question_own_ms: float
    question_shared_ms: float
    open_first_ms: float
    open_first_p95_ms: float

    @property
    def ratio(self) -> float:
        return self.question_own_ms / self.question_shared_ms


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
    log(f"[bench-libraries] building {servers} servers' libraries")
    start = time.perf_counter()
    builder = Libraries(config, work / "servers", limits, encoder)
    for server in range(1, servers + 1):
        builder.add(server, "handbook.txt", server_document(server), config.max_file_mb, frozenset(shared.sources))
    build_seconds = time.perf_counter() - start
    del builder
    gc.collect()

    log("[bench-libraries] opening libraries on first use")
    libraries = Libraries(config, work / "servers", limits, encoder)  # as after a restart: none open
    opening = []
    for server in range(1, min(FIRST_USES, servers) + 1):
        began = time.perf_counter()
        libraries.retriever_for(server, shared)
        opening.append(time.perf_counter() - began)

    log("[bench-libraries] questions in a server with its own library and in one without")
    own_times, shared_times = [], []
    for _ in range(ROUNDS):
        for question in asked:
            for server, timings in ((1, own_times), (None, shared_times)):
                began = time.perf_counter()
                libraries.retriever_for(server, shared).answer(question)
                timings.append(time.perf_counter() - began)

    log("[bench-libraries] a question in every server")
    for server in range(1, servers + 1):
        libraries.retriever_for(server, shared).answer(asked[0])
    gc.collect()
    rss_default = resident_bytes()
    del libraries
    everything = Libraries(config, work / "servers", replace(limits, open=servers), encoder)
    for server in range(1, servers + 1):
        everything.retriever_for(server, shared)
    gc.collect()
    rss_all = resident_bytes()  # freed memory the allocator kept counts too: an upper bound
    return LibraryFigures(servers, shared.index.count, round(build_seconds, 1), round(rss_shared / MIB, 1),
                          round(rss_default / MIB, 1), round(rss_all / MIB, 1), median_ms(own_times),
                          median_ms(shared_times), median_ms(opening),
                          round(sorted(opening)[int(0.95 * (len(opening) - 1))] * 1000, 2))


def libraries_table(f: LibraryFigures) -> str:
    rows = [("servers with a library of their own", f"{f.servers} (one small document each)"),
            ("shared library", f"{f.shared_passages} passages"),
            ("building every server's library", f"{f.build_seconds} s"),
            ("process memory: model + shared index", f"{f.rss_shared_mb} MB"),
            (f"after a question in every server ({DEFAULT_OPEN} left open)", f"{f.rss_default_open_mb} MB"),
            (f"every server's library open ({f.servers})", f"{f.rss_all_open_mb} MB"),
            ("question, server with its own library (median)", f"{f.question_own_ms} ms"),
            ("question, shared library only (median)", f"{f.question_shared_ms} ms"),
            ("ratio own / shared", f"{f.ratio:.2f}"),
            ("opening a server's library on first use", f"median {f.open_first_ms} ms, p95 {f.open_first_p95_ms} ms")]
    width = max(len(name) for name, _ in rows)
    return "\n".join([f"| {'measure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|",
                      *(f"| {name.ljust(width)} | {value} |" for name, value in rows)])
