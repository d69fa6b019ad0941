"""`bench-uploads`: hostile documents made with real libraries (a Word zip bomb, a PDF whose pages share one huge
content stream) in; a table out of how long refusing each took and the reading process's peak memory, and of
how long folders of ordinary documents take to read within bounds (reader_process.py) and unbounded, here.

Each hostile file is read in a fresh process (`python -c`), so its peak resident memory (ru_maxrss) is that
reading's alone, the reader worker it starts included."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import RetrievalError
from ..ingest.corpus import document_files, load_corpus
from ..ingest.formats import read_any
from ..ingest.reader_process import same_imports
from ..settings import ReadSettings

MB = 1e6
CHUNK = 1 << 20  # whitespace written to a bomb's part a megabyte at a time: the bomb is never whole in memory
BODY_OPEN = b"<w:body>"
# The probe of issue 22: 1.3 MB of Word file that unzips to 1.2 GB took 2.6 GB of memory and 20-31 s to refuse.
BOMB_UNZIPPED = 1_200_000_000
SLOW_PDF_PAGES = 60  # the probe's PDF: 60 pages sharing one 3 MB content stream, about 24 s a page
SLOW_PDF_OPERATIONS = 80_000  # text-drawing operations in the shared stream: 3 MB of it


def word_bomb(path: Path, unzipped: int) -> Path:
    """A real Word file (python-docx) of one paragraph whose document part carries `unzipped` bytes of white
    space inside its body: valid XML that deflates about 1,000 to 1, and reads as that paragraph."""
    import docx

    document = docx.Document()
    document.add_paragraph("The ferry at Elder Crossing ran from 1890 until the bridge opened in 1961.")
    document.save(str(path))
    with zipfile.ZipFile(path) as plain:
        parts = [(info, plain.read(info)) for info in plain.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info, data in parts:
            if info.filename != "word/document.xml":
                bomb.writestr(info.filename, data)
                continue
            start = data.index(BODY_OPEN) + len(BODY_OPEN)
            with bomb.open(info.filename, "w", force_zip64=True) as part:
                part.write(data[:start])
                for left in range(unzipped, 0, -CHUNK):
                    part.write(b" " * min(CHUNK, left))
                part.write(data[start:])
    return path


def slow_pdf(path: Path, pages: int, operations: int) -> Path:
    """A PDF (pypdf) whose `pages` pages all draw one deflated content stream of `operations` text operations."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    stream = DecodedStreamObject()
    stream.set_data(b"".join(b"BT /F1 9 Tf %d %d Td (w%d) Tj ET\n" % (n % 500, n % 700, n)
                             for n in range(operations)))
    # one object, deflated (3 MB of operations: 130 KB), shared: pypdf's public API would copy it per page
    contents = writer._add_object(stream.flate_encode())
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Contents")] = contents
        page[NameObject("/Resources")] = resources
    writer.write(path)
    return path


# Run in a fresh interpreter: read one file as a build does, print how it went and the peak resident memory of
# this process and of its reader worker (a worker still alive: its VmHWM; one stopped and reaped: RUSAGE_CHILDREN).
PROBE = """
import json, resource, sys, time
from pathlib import Path
from retrieval import SourceError
from retrieval.ingest.corpus import reason
from retrieval.ingest.reader_process import WORKERS, read_bounded
from retrieval.settings import ReadSettings
start = time.perf_counter()
try:
    read_bounded(Path(sys.argv[1]), "probe", ReadSettings(**json.loads(sys.argv[2])))
    outcome = "read"
except SourceError as error:
    outcome = reason(error, Path(sys.argv[1]))
seconds = time.perf_counter() - start
def peak_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
worker = max([peak_kb(w.process.pid) for w in WORKERS.idle] + [resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss])
print(json.dumps({"seconds": seconds, "reader_kb": peak_kb("self"), "worker_kb": worker, "outcome": outcome}))
"""


@dataclass(frozen=True)
class Refusal:
    """One hostile file read as a build reads it: how long, the peak memory of the process reading it and of its
    reader worker, and what came of it."""

    name: str
    size_mb: float
    seconds: float
    reader_mb: float
    worker_mb: float
    outcome: str


def probe(path: Path, reading: ReadSettings) -> Refusal:
    """Read `path` in a fresh process as a build would; how long it took, its peak memory, what came of it."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(path), json.dumps(asdict(reading))], capture_output=True,
                          text=True, check=False, env=same_imports())
    if done.returncode:
        raise RetrievalError(f"reading {path.name} failed: {done.stderr.strip()[-500:]}")
    found = json.loads(done.stdout.splitlines()[-1])
    return Refusal(path.name, path.stat().st_size / MB, found["seconds"], found["reader_kb"] / 1024,
                   found["worker_kb"] / 1024, found["outcome"])


def run_upload_bench(reading: ReadSettings, folder: Path | None = None) -> list[Refusal]:
    """Make the hostile files (in `folder`, else a temporary one) and probe each within `reading`'s bounds."""
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(folder or scratch)
        where.mkdir(parents=True, exist_ok=True)
        files = [word_bomb(where / "bomb.docx", BOMB_UNZIPPED),
                 slow_pdf(where / "shared-stream.pdf", SLOW_PDF_PAGES, SLOW_PDF_OPERATIONS)]
        return [probe(path, reading) for path in files]


@dataclass(frozen=True)
class FolderReading:
    """How long a folder of ordinary documents took to read: each file by its reader here, unbounded, and as a
    build reads it, within bounds (the best of a few times each, and the bounded first time, a worker's start
    included)."""

    folder: str
    files: int
    unbounded_seconds: float
    bounded_seconds: float
    bounded_first_seconds: float


def time_folder(folder: Path, reading: ReadSettings, repeats: int = 3) -> FolderReading:
    files = document_files(folder)
    unbounded, bounded = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        for file in files:
            read_any(file, file.stem, reading)
        unbounded.append(time.perf_counter() - start)
        start = time.perf_counter()
        load_corpus(folder, reading=reading)
        bounded.append(time.perf_counter() - start)
    return FolderReading(str(folder), len(files), min(unbounded), min(bounded), bounded[0])


def folders_table(results: list[FolderReading]) -> str:
    lines = [f"{'folder':<44} {'files':>5} {'unbounded s':>11} {'bounded s':>9} {'bounded, first s':>16}"]
    lines += [f"{r.folder[-44:]:<44} {r.files:>5} {r.unbounded_seconds:>11.3f} {r.bounded_seconds:>9.3f} "
              f"{r.bounded_first_seconds:>16.3f}" for r in results]
    return "\n".join(lines)


def upload_table(results: list[Refusal]) -> str:
    lines = [f"{'file':<18} {'size MB':>7} {'seconds':>7} {'peak MB: reader':>15} {'worker':>6}  outcome"]
    lines += [f"{r.name:<18} {r.size_mb:>7.2f} {r.seconds:>7.2f} {r.reader_mb:>15.0f} {r.worker_mb:>6.0f}  "
              f"{r.outcome.split('; ')[0]}" for r in results]
    return "\n".join(lines)
