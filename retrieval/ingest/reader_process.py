"""A document read within bounds: a path in; its Document out, or a SourceError saying which bound it met (the
deadline, the memory ceiling, a reader that died), whatever the format's library does with the file. A build's
near-duplicate search runs here too, within the same bounds: passages in, their groups out (or a RetrievalError).

Why a process of its own: a thread cannot be stopped, and pypdf, lxml or python-docx caught in a file built to
take minutes or gigabytes would hold the bot's one builder thread (and its memory) as long as they like. A child
process can be killed at the deadline, and its address space limited (RLIMIT_AS) so that an allocation past
the ceiling fails there, as a MemoryError, instead of the kernel's OOM killer taking the bot.

Why a fresh interpreter, not fork: the bot and the service run threads (the event loop, the builder, the
writer); forking a threaded process can copy a lock some thread holds into the child, which then waits on it
for ever. Why a plain subprocess, not multiprocessing's "spawn": spawn runs the caller's main script again in the
child, so any script calling load_corpus without an `if __name__ == "__main__":` guard would fail. A fresh
interpreter takes about 0.6 s to start and import the readers here, so a worker is kept and reused for the next
file, and the next build, while it is well: a build of many files pays the start once.

Why the near-duplicate search here: it is the one part of a build whose cost the text chooses (dedupe.py bounds
it, but a corpus of millions of passages is still minutes), and in the bot's process a long pure-Python loop and
the garbage collector's passes over it stall the event loop; here it is bounded by the deadline and ceiling.

Plain text (.txt) and corpus.jsonl are read in this process: that is this project's own code, linear in a file
that max_file_mb already bounds, and the squad-dev and seed builds stay as fast as they were."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from tqdm import tqdm

from ..errors import RetrievalError, SourceError
from ..records import ANSWERS, Passage
from ..settings import DEFAULT_READING, ReadSettings
from .dedupe import Grouping, find_duplicates
from .formats import READERS, read_any
from .formats.pdf import LONG_PDF_PAGES
from .readers import Document, read_document
from .split import split_paragraph

# The worker's program: serve() on the socket whose descriptor it is given. It ignores SIGINT first thing: Ctrl-C in
# a terminal reaches the whole process group, and the owner (which gets it too) stops the worker itself; a worker
# interrupted on its own would print a traceback under the owner's one-line "interrupted".
WORKER_CODE = ("import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
               "from retrieval.ingest.reader_process import serve_on; serve_on(int(sys.argv[1]))")
# Starting a worker (an interpreter importing the readers) took 0.6 s here; this much means something is wrong
# with the machine, not with any file.
START_SECONDS = 60.0
IDLE_WORKERS = 2  # kept for the next file; more than the builder and one other caller reading at once is waste
MB = 1024 * 1024
RESAVE = "save its text as a .txt file, or split it into smaller files"
SPLIT_LIBRARY = "raise the bound, or split the library into smaller ones"


@dataclass(frozen=True)
class Request:
    """One file for a worker to read."""

    path: str
    key: str
    reading: ReadSettings
    progress: bool  # send ("page", done, total) as a long PDF's pages are read


@dataclass(frozen=True)
class GroupRequest:
    """Passages for a worker to group into near-duplicates (dedupe.py)."""

    passages: list[Passage]
    reading: ReadSettings


def read_bounded(path: Path, key: str, reading: ReadSettings = DEFAULT_READING, progress: bool = False) -> Document:
    """The file read by its format's reader in a worker process, within `reading`'s deadline and memory; a .txt
    file (or any without a format reader) read here. With `progress`, a long PDF shows a bar over its pages.
    A document of more than `reading.passages` passages is refused (a Word file's before its paragraphs are read)."""
    return within_passages(read_in_worker(path, key, reading, progress), path, reading)


def within_passages(document: Document, path: Path, reading: ReadSettings) -> Document:
    """The document, unless it gives more passages than `reading.passages`: then SourceError saying so."""
    count = sum(len(split_paragraph(block.text)) for block in document.blocks if block.role in ANSWERS)
    if count > reading.passages:
        raise SourceError(too_many_passages(path, f"gives {count:,} passages", reading.passages))
    return document


def too_many_passages(path: Path, found: str, limit: int) -> str:
    return (f"{path} {found}, over the {limit:,} one document may give (`passages` in the config's "
            f"[retrieval.reading] table); split it into several files, or join its short paragraphs")


def read_in_worker(path: Path, key: str, reading: ReadSettings, progress: bool) -> Document:
    if path.suffix.lower() not in READERS:
        return read_document(path, key)
    request = Request(str(path), key, reading, progress)
    worker = WORKERS.take()
    try:
        try:
            return worker.read(request)
        except WorkerGone:  # it died while idle (killed from outside): once more, with a fresh one
            worker.stop()
            worker = Worker()
            return worker.read(request)
    except SourceError:  # the file refused; the worker is well unless it was stopped for it (Worker.read)
        raise
    except BaseException:
        worker.stop()  # interrupted mid-answer: what it sends next would answer this request, not the next
        raise
    finally:
        WORKERS.give(worker)  # kept if alive and needed, else stopped


def group_bounded(passages: list[Passage], reading: ReadSettings = DEFAULT_READING) -> Grouping:
    """The passages' near-duplicate groups, found by a worker process within `reading`'s deadline and memory;
    RetrievalError saying which bound it met."""
    request = GroupRequest(passages, reading)
    worker = WORKERS.take()
    try:
        try:
            return worker.group(request)
        except WorkerGone:
            worker.stop()
            worker = Worker()
            return worker.group(request)
    except RetrievalError:
        raise
    except BaseException:
        worker.stop()
        raise
    finally:
        WORKERS.give(worker)


class WorkerGone(RetrievalError):
    """An idle worker could not be sent a file: it is no longer there."""

    PUBLIC = "the bot's document reader stopped; send the document again"


class Overrun(Exception):
    """A worker stopped at a bound of its request's ReadSettings ("seconds", "memory_mb"), or found dead ("died",
    with the reason); its caller says what it was doing."""

    def __init__(self, bound: str, reason: str = "") -> None:
        super().__init__(bound)
        self.bound = bound
        self.reason = reason

    def said(self, reading: ReadSettings, subject: str, doing: str, advice: str) -> str:
        """`subject` and what it met, as a manager reads it: '<subject> took more than 60 s <doing>, so ...'."""
        if self.bound == "died":
            return f"{subject} stopped its worker process ({self.reason}); {advice}"
        if self.bound == "seconds":
            told = f"took more than {reading.seconds:g} s {doing}".rstrip()
        else:
            told = f"needs more than {reading.memory_mb:g} MB of memory {doing}".rstrip()
        table = f"`{self.bound}` in the config's [retrieval.reading] table"
        return f"{subject} {told}, so it was stopped ({table}); {advice}"


def same_imports() -> dict[str, str]:
    """The environment for a child Python that imports what this one does (this very code, not another copy)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(entry or os.getcwd() for entry in sys.path)}


class Worker:
    """One reader process and the pipe to it; used by one caller at a time."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-c", WORKER_CODE, str(theirs.fileno())],
                                        pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=same_imports())
        theirs.close()  # so that its death reads here as the end of the pipe
        self.pipe = Connection(ours.detach())
        try:
            started = self.pipe.poll(START_SECONDS) and self.receive() == ("ready",)
        except BaseException:  # Ctrl-C while it starts: it must not outlive us, nor be left half started
            self.stop()
            raise
        if not started:
            self.stop()
            raise RetrievalError(f"the document reader process did not start within {START_SECONDS:g} s; check "
                                 "that this machine can start Python processes")

    def read(self, request: Request) -> Document:
        """The worker's reading of one file; SourceError when it refuses the file, or when it had to be stopped
        (past the deadline, out of memory, dead), and then it is stopped for good."""
        path = Path(request.path)
        bar = PageBar(path.name) if request.progress else None
        try:
            kind, answer = self.ask(request, f"the reader process for {path}", bar)
        except Overrun as overrun:
            if overrun.bound == "died":
                raise SourceError(f"{path} stopped its reader ({overrun.reason}); it may be damaged or built to "
                                  f"exhaust the reader; {RESAVE}") from None
            raise SourceError(overrun.said(request.reading, str(path), "to read", RESAVE)) from None
        finally:
            if bar is not None:
                bar.close()
        if kind == "refused":
            raise SourceError(answer)
        return answer

    def group(self, request: GroupRequest) -> Grouping:
        """The worker's near-duplicate groups of the request's passages; RetrievalError when it had to be stopped,
        and then it is stopped for good."""
        try:
            kind, answer = self.ask(request, "the near-duplicate process", None)
        except Overrun as overrun:
            raise RetrievalError(overrun.said(request.reading, f"Finding near-duplicates among "
                                              f"{len(request.passages):,} passages", "", SPLIT_LIBRARY)) from None
        if kind == "refused":
            raise RetrievalError(answer)
        return answer

    def ask(self, request: Request | GroupRequest, name: str, bar: PageBar | None) -> tuple:
        """Send a request and wait, within its deadline, for the answer: ("read", Document), ("refused", why) or
        ("grouped", Grouping); Overrun when the worker had to be stopped (then it is stopped for good)."""
        try:
            self.pipe.send(request)
        except OSError:
            raise WorkerGone(f"{name} is gone") from None
        deadline = time.monotonic() + request.reading.seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.pipe.poll(left):
                self.stop()
                raise Overrun("seconds")
            message = self.receive()
            if message is None:
                reason = self.exit_reason()
                self.stop()
                raise Overrun("died", reason)
            kind, *rest = message
            if kind == "page":
                if bar is not None:
                    bar.update(*rest)
            elif kind == "memory":  # it exits after saying so
                self.stop()
                raise Overrun("memory_mb")
            else:
                return kind, rest[0]

    def receive(self) -> tuple | None:
        """The worker's next message; None when it has died."""
        try:
            return self.pipe.recv()
        except (EOFError, OSError):
            return None

    def exit_reason(self) -> str:
        try:
            code = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "it did not exit"
        return f"signal {-code}" if code < 0 else f"exit code {code}"

    def alive(self) -> bool:
        return self.process.poll() is None and not self.pipe.closed

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # a process stuck in the kernel goes when it can
            self.process.wait(timeout=5.0)
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

def serve_on(descriptor: int) -> None:
    """The worker: read each requested file (or group the passages given) and send back what came of it, until the
    socket closes (its owner is gone, even between a request and its answer: then there is no one to tell)."""
    pipe = Connection(descriptor)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        serve(pipe)


def serve(pipe: Connection) -> None:
    """Say it is ready, then answer each request on `pipe` until it closes."""
    pipe.send(("ready",))
    while True:
        try:
            request: Request | GroupRequest = pipe.recv()
        except (EOFError, OSError):
            return
        limit(request.reading)
        try:
            pipe.send(answer(request, pipe))
        except SourceError as error:
            pipe.send(("refused", str(error)))
        except MemoryError:  # RLIMIT_AS reached: say so and exit, the heap may be in pieces
            unlimit()  # saying so takes memory too: at the very ceiling the message itself failed to allocate
            pipe.send(("memory",))
            return
        except Exception as error:  # a failure the reader did not foresee: the file named, not a traceback
            failed = type(error).__name__
            pipe.send(("refused", f"finding near-duplicate passages failed ({failed})"
                       if isinstance(request, GroupRequest) else
                       f"{request.path} could not be read ({failed}); {RESAVE}"))


def answer(request: Request | GroupRequest, pipe: Connection) -> tuple:
    """What the worker sends back for one request, once done: ("grouped", Grouping) or ("read", Document)."""
    if isinstance(request, GroupRequest):
        return "grouped", find_duplicates(request.passages)

    def tick(done: int, total: int) -> None:
        pipe.send(("page", done, total))

    return "read", read_any(Path(request.path), request.key, request.reading, tick if request.progress else None)


def unlimit() -> None:
    """Lift the address-space ceiling `limit` set, back to the hard limit."""
    try:
        import resource
    except ImportError:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def limit(reading: ReadSettings) -> None:
    """Bound this worker's next reading by the kernel too: its address space may grow by `memory_mb` from what
    it is now (the imports take about 540 MB of address space here, mostly mapped and never touched), and its
    CPU time by the deadline and a second (SIGXCPU ends it then), which holds even when its owner died and no
    longer watches the clock. Linux only; elsewhere the owner's deadline alone holds."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError):
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    for which, soft in ((resource.RLIMIT_AS, size + int(reading.memory_mb * MB)),
                        (resource.RLIMIT_CPU, math.ceil(used.ru_utime + used.ru_stime + reading.seconds) + 1)):
        _, hard = resource.getrlimit(which)
        resource.setrlimit(which, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
