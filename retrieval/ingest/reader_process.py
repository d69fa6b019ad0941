"""A document read within bounds: a path in; its Document out, or a SourceError saying which bound it met (the
deadline, the memory ceiling, a reader that died), whatever the format's library does with the file.

Why a process of its own: a thread cannot be stopped, and pypdf, lxml or python-docx caught in a file built to
take minutes or gigabytes would hold the bot's one builder thread (and its memory) as long as they like. A child
process can be killed at the deadline, and its address space limited (RLIMIT_AS) so that an allocation past
the ceiling fails there, as a MemoryError, instead of the kernel's OOM killer taking the bot.

Why spawn, not fork: the bot and the service run threads (the event loop, the builder, the writer); forking a
threaded process can copy a lock some thread holds into the child, which then waits on it for ever. A spawned
child is a fresh interpreter (about 0.6 s to start and import the readers here), so a worker is kept and reused
for the next file, and the next build, while it is well: a build of many files pays the start once.

Plain text (.txt) and corpus.jsonl are read in this process: that is this project's own code, linear in a file
that max_file_mb already bounds, and the squad-dev and seed builds stay as fast as they were."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from tqdm import tqdm

from ..errors import RetrievalError, SourceError
from ..settings import DEFAULT_READING, ReadSettings
from .formats import READERS, read_any
from .formats.pdf import LONG_PDF_PAGES
from .readers import Document, read_document

CONTEXT = multiprocessing.get_context("spawn")
# Starting a worker (an interpreter importing the readers) took 0.6 s here; this much means something is wrong
# with the machine, not with any file.
START_SECONDS = 60.0
IDLE_WORKERS = 2  # kept for the next file; more than the builder and one other caller reading at once is waste
MB = 1024 * 1024
RESAVE = "save its text as a .txt file, or split it into smaller files"


@dataclass(frozen=True)
class Request:
    """One file for a worker to read."""

    path: str
    key: str
    reading: ReadSettings
    progress: bool  # send ("page", done, total) as a long PDF's pages are read


def read_bounded(path: Path, key: str, reading: ReadSettings = DEFAULT_READING, progress: bool = False) -> Document:
    """The file read by its format's reader in a worker process, within `reading`'s deadline and memory; a .txt
    file (or any without a format reader) read here. With `progress`, a long PDF shows a bar over its pages."""
    if path.suffix.lower() not in READERS:
        return read_document(path, key)
    request = Request(str(path), key, reading, progress)
    worker = WORKERS.take()
    try:
        try:
            document = worker.read(request)
        except WorkerGone:  # it died while idle (killed from outside): once more, with a fresh one
            worker.stop()
            worker = Worker()
            document = worker.read(request)
    except BaseException:
        worker.stop()  # killed, out of memory, or interrupted mid-answer: never reuse it
        raise
    WORKERS.give(worker)
    return document


class WorkerGone(RetrievalError):
    """An idle worker could not be sent a file: it is no longer there."""


class Worker:
    """One reader process and the pipe to it; used by one caller at a time."""

    def __init__(self) -> None:
        ours, theirs = CONTEXT.Pipe()
        self.pipe: Connection = ours
        self.process: BaseProcess = CONTEXT.Process(target=serve, args=(theirs,), name="document-reader",
                                                    daemon=True)  # ended with this process, never left behind
        self.process.start()
        theirs.close()  # so that its death reads here as the end of the pipe
        if not self.pipe.poll(START_SECONDS) or self.receive() != ("ready",):
            self.stop()
            raise RetrievalError(f"the document reader process did not start within {START_SECONDS:g} s; check "
                                 "that this machine can start Python processes")

    def read(self, request: Request) -> Document:
        path = Path(request.path)
        try:
            self.pipe.send(request)
        except OSError:
            raise WorkerGone(f"the reader process for {path} is gone") from None
        deadline = time.monotonic() + request.reading.seconds
        bar = PageBar(path.name) if request.progress else None
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not self.pipe.poll(left):
                    raise SourceError(f"{path} took more than {request.reading.seconds:g} s to read, so it was "
                                      f"stopped (`seconds` in the config's [retrieval.reading] table); {RESAVE}")
                message = self.receive()
                if message is None:
                    raise SourceError(f"{path} stopped its reader ({self.exit_reason()}); it may be damaged or "
                                      f"built to exhaust the reader; {RESAVE}")
                kind, *rest = message
                if kind == "page" and bar is not None:
                    bar.update(*rest)
                elif kind == "read":
                    return rest[0]
                elif kind == "refused":
                    raise SourceError(rest[0])
                elif kind == "memory":
                    raise SourceError(f"{path} needs more than {request.reading.memory_mb:g} MB of memory to read, "
                                      "so it was stopped (`memory_mb` in the config's [retrieval.reading] table); "
                                      f"{RESAVE}")
        finally:
            if bar is not None:
                bar.close()

    def receive(self) -> tuple | None:
        """The worker's next message; None when it has died."""
        try:
            return self.pipe.recv()
        except (EOFError, OSError):
            return None

    def exit_reason(self) -> str:
        self.process.join(timeout=1.0)
        code = self.process.exitcode
        return "it did not exit" if code is None else f"signal {-code}" if code < 0 else f"exit code {code}"

    def alive(self) -> bool:
        return self.process.is_alive() and not self.pipe.closed

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5.0)
        self.pipe.close()


@dataclass
class Workers:
    """Idle workers, shared by every caller in this process (the bot's builder thread and any other)."""

    idle: list[Worker] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> Worker:
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive():
                    return worker
                worker.stop()
        return Worker()

    def give(self, worker: Worker) -> None:
        with self.lock:
            if len(self.idle) < IDLE_WORKERS and worker.alive():
                self.idle.append(worker)
                return
        worker.stop()


WORKERS = Workers()


class PageBar:
    """A bar over a long PDF's pages, drawn here from the pages the worker says it has read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bar: tqdm | None = None

    def update(self, done: int, total: int) -> None:
        if total < LONG_PDF_PAGES:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=f"Reading {self.name}", unit="page")
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --- the worker's side -------------------------------------------------------------------------------------------

def serve(pipe: Connection) -> None:
    """Read each requested file and send back what came of it, until the pipe closes (its owner is gone)."""
    pipe.send(("ready",))
    while True:
        try:
            request: Request = pipe.recv()
        except (EOFError, OSError):
            return
        limit_memory(request.reading.memory_mb)

        def tick(done: int, total: int) -> None:
            pipe.send(("page", done, total))

        try:
            document = read_any(Path(request.path), request.key, request.reading, tick if request.progress else None)
            pipe.send(("read", document))
        except SourceError as error:
            pipe.send(("refused", str(error)))
        except MemoryError:  # RLIMIT_AS reached: say so and exit, the heap may be in pieces
            pipe.send(("memory",))
            return
        except Exception as error:  # a reader's failure the reader did not foresee: the file named, not a traceback
            pipe.send(("refused", f"{request.path} could not be read ({type(error).__name__}); {RESAVE}"))


def limit_memory(budget_mb: float) -> None:
    """Let this process's address space grow by at most `budget_mb` from what it is now (a worker's imports
    take about 540 MB of address space here, most of it mapped but never touched). Linux only; elsewhere the
    deadline alone holds."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            now = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError):
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = now + int(budget_mb * MB)
    resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
