"""`python -m retrieval.benchmarks.fairness`: servers' library work as the bot runs it (retrieval/libraries.py) in;
a table out of (1) how long server B's /add-source of a 20-byte file waits while server A adds a hostile or a
heavy document, (2) how long adding and removing one small document takes in a server's library of 20, and a
question's time in that server (the seeds are the shared library).

Run it on this code and on an older checkout (PYTHONPATH) to compare: where the libraries have no pool of their
own (before issue 27), the changes run, as the bot ran them then, one at a time on one build thread.
--encoder words times the logistics (reading, queueing, writing) with a stand-in that hashes words (the fast
tests' own, tests/encoders.py, so run it from the project's root); --encoder model uses the configured model."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..config import RetrievalConfig, load_config
from ..errors import RetrievalError
from ..libraries import Libraries, LibraryLimits
from ..loader import open_retriever

BODY_OPEN = b"<w:body>"
SERVER_A, SERVER_B, SERVER_C = 1, 2, 3
SMALL = b"Note\n\nQuays at six.\n"  # B's 20-byte file
HOSTILE_PARAGRAPHS = 200_000  # issue 27's probe: a Word file of 200,000 one-word paragraphs
LIBRARY_DOCUMENTS = 20  # the bot's default server_max_documents: a library at its limit
REPEATS = 3  # each add and remove in the full library, timed this many times
QUESTIONS = ["When does the east quay open?", "Which keeper rings the harbour bell at dawn?",
             "How many refugees were resettled?", "What does the tide ledger list?"]
SEEDS = Path(__file__).resolve().parents[2] / "seeds"  # the shared library: the project's seed documents
PARAGRAPH_BYTES = 430  # what one of prose()'s paragraphs takes, measured: 60 words of 6 letters and 2 digits


def many_paragraphs_docx(path: Path, paragraphs: int, word: str = "tide") -> Path:
    """A real Word file (python-docx) of a title and `paragraphs` one-word paragraphs: about 60 KB for 200,000."""
    import docx

    document = docx.Document()
    document.add_paragraph("Tide Table")
    document.save(str(path))
    with zipfile.ZipFile(path) as plain:
        parts = [(info, plain.read(info)) for info in plain.infolist()]
    one = f"<w:p><w:r><w:t>{word}</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            if info.filename == "word/document.xml":
                start = data.index(BODY_OPEN) + len(BODY_OPEN)
                data = data[:start] + one * paragraphs + data[start:]
            out.writestr(info.filename, data)
    return path


def prose(paragraphs: int, seed: int) -> bytes:
    """A text document of `paragraphs` distinct paragraphs of 60 words."""
    words = ["harbour", "tide", "ferry", "quay", "lantern", "ledger", "bell", "rope", "gull", "pier", "storm",
             "anchor", "keeper", "dawn", "salt", "net"]
    body = [" ".join(words[(seed * 7 + n * 3 + k * k) % len(words)] + str(n % 97) for k in range(60)) + "."
            for n in range(paragraphs)]
    return (f"Document {seed}\n\n" + "\n\n".join(body) + "\n").encode()


@dataclass(frozen=True)
class Wait:
    """B's /add-source while A adds `heavy`: how long A's took and how it ended, and how long B's waited."""

    heavy: str
    a_seconds: float
    a_outcome: str
    b_seconds: float


@dataclass(frozen=True)
class LibraryChange:
    documents: int
    library_mb: float
    add_seconds: float  # median over REPEATS
    remove_seconds: float
    question_ms: float  # a question in that server (the shared library and its 20 documents), median of the best
    question_shared_ms: float  # the same questions over the shared library alone


class Runner:
    """Runs changes as the bot does: on the libraries' pool where there is one, else on one build thread."""

    def __init__(self, libraries: Libraries) -> None:
        self.libraries = libraries
        self.single = None if hasattr(libraries, "submit") else ThreadPoolExecutor(1, thread_name_prefix="index")

    def submit(self, server: int, work, *args) -> Future:
        if self.single is not None:
            return self.single.submit(work, *args)
        return self.libraries.submit(server, work, *args)

    def close(self) -> None:
        if self.single is not None:
            self.single.shutdown(wait=True)
        elif hasattr(self.libraries, "close"):
            self.libraries.close()


def timed(future: Future, began: float) -> tuple[float, str]:
    try:
        future.result()
        outcome = "added"
    except RetrievalError as error:
        outcome = f"refused: {str(error)[:90]}"
    return time.perf_counter() - began, outcome


def b_waits(config: RetrievalConfig, encoder, work: Path, heavy: str, data: bytes, name: str) -> Wait:
    """A adds `data` as `name`; B's small file goes in right after; both timed from their submission."""
    libraries = Libraries(config, work / f"servers-{heavy}", LibraryLimits(20, 50.0, 64, 30), encoder)
    runner = Runner(libraries)
    began_a = time.perf_counter()
    a = runner.submit(SERVER_A, libraries.add, SERVER_A, name, data, config.max_file_mb, frozenset())
    time.sleep(0.05)  # A's work has begun
    began_b = time.perf_counter()
    b = runner.submit(SERVER_B, libraries.add, SERVER_B, "note.txt", SMALL, config.max_file_mb, frozenset())
    b_seconds, _ = timed(b, began_b)
    a_seconds, a_outcome = timed(a, began_a)
    runner.close()
    return Wait(heavy, round(a_seconds, 2), a_outcome, round(b_seconds, 2))


def full_library(config: RetrievalConfig, encoder, work: Path, document_kb: int, shared) -> LibraryChange:
    """Server C's library at 20 documents; adding a 21st small one and removing it, each timed REPEATS times;
    then questions in C, each its best of REPEATS, against the shared library alone."""
    libraries = Libraries(config, work / "servers-full", LibraryLimits(LIBRARY_DOCUMENTS + 1, 500.0, 64, 30),
                          encoder)
    runner = Runner(libraries)
    paragraphs = max(1, document_kb * 1000 // PARAGRAPH_BYTES)
    for n in range(LIBRARY_DOCUMENTS):
        runner.submit(SERVER_C, libraries.add, SERVER_C, f"doc-{n}.txt", prose(paragraphs, n), config.max_file_mb,
                      frozenset()).result()
    held = sum(f.stat().st_size for f in (work / "servers-full" / str(SERVER_C)).glob("*.txt"))
    adds, removes = [], []
    for _ in range(REPEATS):
        began = time.perf_counter()
        runner.submit(SERVER_C, libraries.add, SERVER_C, "small.txt", SMALL, config.max_file_mb, frozenset()).result()
        adds.append(time.perf_counter() - began)
        began = time.perf_counter()
        runner.submit(SERVER_C, libraries.remove, SERVER_C, "small", frozenset()).result()
        removes.append(time.perf_counter() - began)
        shutil.rmtree(work / "servers-full" / str(SERVER_C) / ".removed")
    in_c, alone = [], []
    for question in QUESTIONS:
        for retriever, times in ((libraries.retriever_for(SERVER_C, shared), in_c), (shared, alone)):
            best = float("inf")
            for _ in range(REPEATS):
                began = time.perf_counter()
                retriever.answer(question)
                best = min(best, time.perf_counter() - began)
            times.append(best)
    runner.close()
    return LibraryChange(LIBRARY_DOCUMENTS, round(held / 1e6, 2), round(statistics.median(adds), 2),
                         round(statistics.median(removes), 2), round(statistics.median(in_c) * 1000, 1),
                         round(statistics.median(alone) * 1000, 1))


def make_encoder(kind: str, config: RetrievalConfig):
    if kind == "words":
        from tests.encoders import WordHashEncoder  # the fast tier's stand-in: run from the project's root

        return WordHashEncoder()
    from ..encode.embed import load_encoder, resolve_model

    return load_encoder(resolve_model(config.model, config.model_sha256, config.backend), config.batch_size,
                        config.model_cache)


def run(config: RetrievalConfig, encoder_kind: str, work: Path, heavy_kb: int, document_kb: int) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config = replace(config, sources=SEEDS, index=work / "index", store="faiss")
    encoder = make_encoder(encoder_kind, config)
    shared = open_retriever(config, rebuild=True, progress=False, encoder=encoder)
    hostile = many_paragraphs_docx(work / "hostile.docx", HOSTILE_PARAGRAPHS).read_bytes()
    heavy = prose(max(1, heavy_kb * 1000 // PARAGRAPH_BYTES), 99)
    waits = [b_waits(config, encoder, work, "hostile", hostile, "tides.docx"),
             b_waits(config, encoder, work, "heavy", heavy, "ledger.txt")]
    library = full_library(config, encoder, work, document_kb, shared)
    return {"encoder": encoder_kind, "heavy_mb": round(len(heavy) / 1e6, 2),
            "waits": [asdict(w) for w in waits], "library": asdict(library),
            "cores": os.cpu_count(), "load_average": round(os.getloadavg()[0], 1)}


def table(figures: dict) -> str:
    rows = [(f"B's 20-byte add while A adds the {HOSTILE_PARAGRAPHS:,}-paragraph Word file"
             if w["heavy"] == "hostile" else f"B's 20-byte add while A adds {figures['heavy_mb']} MB of prose",
             f"B waited {w['b_seconds']} s; A's took {w['a_seconds']} s ({w['a_outcome']})") for w in figures["waits"]]
    lib = figures["library"]
    rows += [(f"add a small document to a library of {lib['documents']} ({lib['library_mb']} MB)",
              f"{lib['add_seconds']} s (median of {REPEATS})"),
             ("remove it again", f"{lib['remove_seconds']} s (median of {REPEATS})"),
             ("a question in that server (median of each one's best)", f"{lib['question_ms']} ms"),
             ("the same questions over the shared library alone", f"{lib['question_shared_ms']} ms")]
    width = max(len(name) for name, _ in rows)
    return "\n".join([f"| {'measure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|",
                      *(f"| {name.ljust(width)} | {value} |" for name, value in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval.benchmarks.fairness", description=__doc__)
    parser.add_argument("--config", type=Path, default=None, help="config file (default: the built-in settings)")
    parser.add_argument("--encoder", choices=("words", "model"), default="words",
                        help="a stand-in that hashes words (logistics alone), or the configured model")
    parser.add_argument("--work", type=Path, default=Path(".cache/bench-fair"), help="emptied first")
    parser.add_argument("--heavy-kb", type=int, default=2000, help="A's heavy document, in KB of prose")
    parser.add_argument("--document-kb", type=int, default=250, help="each of the library's 20 documents, in KB")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    args = parser.parse_args(argv)
    config = load_config(args.config).retrieval if args.config else RetrievalConfig()
    figures = run(config, args.encoder, args.work.resolve(), args.heavy_kb, args.document_kb)
    print(json.dumps(figures, indent=2) if args.json else table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
