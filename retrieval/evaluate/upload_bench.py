"""`bench-uploads`: hostile documents made with real libraries (a Word zip bomb, a PDF whose pages share one huge
content stream) in; a table out of how long refusing each took and the reading process's peak memory.

Each file is read in a fresh process (`python -c`), so its peak resident memory (ru_maxrss) is that reading's
alone, the reader worker it starts (reader_process.py) included."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import RetrievalError
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
    """A PDF (pypdf) whose `pages` pages all draw one content stream of `operations` text operations."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    stream = DecodedStreamObject()
    stream.set_data(b"".join(b"BT /F1 9 Tf %d %d Td (w%d) Tj ET\n" % (n % 500, n % 700, n)
                             for n in range(operations)))
    contents = writer._add_object(stream)  # one object, shared: pypdf's public API copies a stream per page
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Contents")] = contents
        page[NameObject("/Resources")] = resources
    writer.write(path)
    return path


# Run in a fresh interpreter: read one file as a build does, print how it went and the peak memory, as JSON.
PROBE = """
import json, resource, sys, time
from pathlib import Path
from retrieval import SourceError
from retrieval.ingest.corpus import reason
from retrieval.ingest.reader_process import read_bounded
from retrieval.settings import ReadSettings
start = time.perf_counter()
try:
    read_bounded(Path(sys.argv[1]), "probe", ReadSettings(**json.loads(sys.argv[2])))
    outcome = "read"
except SourceError as error:
    outcome = reason(error, Path(sys.argv[1]))
seconds = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "peak_kb": peak, "outcome": outcome}))
"""


@dataclass(frozen=True)
class Refusal:
    name: str
    size_mb: float
    seconds: float
    peak_mb: float
    outcome: str


def probe(path: Path, reading: ReadSettings) -> Refusal:
    """Read `path` in a fresh process as a build would; how long it took, its peak memory, what came of it."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(path), json.dumps(asdict(reading))], capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise RetrievalError(f"reading {path.name} failed: {done.stderr.strip()[-500:]}")
    found = json.loads(done.stdout.splitlines()[-1])
    # ru_maxrss of RUSAGE_CHILDREN is the largest child's; the larger of it and this process's is the peak
    # of the two that did the reading (the prober and its reader worker)
    return Refusal(path.name, path.stat().st_size / MB, found["seconds"], found["peak_kb"] / 1024,
                   found["outcome"])


def run_upload_bench(reading: ReadSettings, folder: Path | None = None) -> list[Refusal]:
    """Make the hostile files (in `folder`, else a temporary one) and probe each within `reading`'s bounds."""
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(folder or scratch)
        where.mkdir(parents=True, exist_ok=True)
        files = [word_bomb(where / "bomb.docx", BOMB_UNZIPPED),
                 slow_pdf(where / "shared-stream.pdf", SLOW_PDF_PAGES, SLOW_PDF_OPERATIONS)]
        return [probe(path, reading) for path in files]


def upload_table(results: list[Refusal]) -> str:
    lines = [f"{'file':<20} {'size MB':>8} {'seconds':>8} {'peak MB':>8}  outcome"]
    lines += [f"{r.name:<20} {r.size_mb:>8.2f} {r.seconds:>8.2f} {r.peak_mb:>8.0f}  {r.outcome.split('; ')[0]}"
              for r in results]
    return "\n".join(lines)
