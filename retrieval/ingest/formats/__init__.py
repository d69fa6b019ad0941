"""Documents as people keep them: PDF, web pages, Word and Markdown files read into blocks with roles, pages and
sections, and the metadata the files state. One module a format, each on a well-kept library:

- pdf.py: pypdf (BSD) gives each page's text laid out; lines are joined into paragraphs here.
- web.py: trafilatura (Apache-2.0) finds the article's own text and metadata, leaving navigation and chrome out.
- word.py: python-docx (MIT) gives paragraphs with their styles and the core properties.
- markdown.py: markdown-it-py (MIT) parses headings and paragraphs; front matter as readers.py reads it.

Plain text and BEIR corpora stay with readers.py. `read_any` picks the reader by the file's suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...settings import DEFAULT_READING, ReadSettings
from ..readers import Document, read_document
from . import markdown, pdf, web, word
from .common import PagesDone, ReadOptions

# Every format's reader takes the file, its source id and the ReadOptions; a suffix not here is read as plain text.
READERS: dict[str, Callable[[Path, str, ReadOptions], Document]] = {
    ".pdf": pdf.read_pdf,
    ".html": web.read_html,
    ".htm": web.read_html,
    ".docx": word.read_docx,
    ".md": markdown.read_markdown,
    ".markdown": markdown.read_markdown,
}
FORMAT_SUFFIXES = frozenset(READERS)


def read_any(path: Path, key: str, reading: ReadSettings = DEFAULT_READING,
             pages_done: PagesDone | None = None) -> Document:
    """The file read by its format's reader, here and unbounded (reader_process.read_bounded is the bounded
    way); a .txt file (or any other) as plain text. `pages_done` hears of each page of a PDF (the one format
    slow enough to need a bar); a Word file's parts may unzip to `reading.max_unzipped_mb` together, and it may
    hold `reading.passages` paragraphs with text."""
    reader = READERS.get(path.suffix.lower())
    return read_document(path, key) if reader is None else reader(path, key, ReadOptions(reading, pages_done))
