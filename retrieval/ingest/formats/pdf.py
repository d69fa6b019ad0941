"""PDF with pypdf: each page's text laid out as lines, joined here into the paragraphs a reader sees.

A passage of a PDF is its page text with the line breaks inside a paragraph joined, words hyphenated at a line
end rejoined ("inter-" + "national" → "international"), runs of spaces (justified text) made one, a paragraph
that runs over a page break made whole, and running headers and footers (the same line, page numbers aside, at
the top or bottom of most pages) left out."""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

from ...errors import SourceError
from ...records import Role
from ..layout import SENTENCE_END, Block, looks_like_heading
from ..readers import Document
from .common import READ_PLAINLY, ReadOptions, clean, file_meta, in_header, out_of_memory, prose_role, with_sections

# A word broken at a line end: a letter, then a hyphen (or a soft hyphen) closing the line.
BROKEN_WORD = re.compile(r"[^\W\d_][-\u2010\xad]$")
DIGITS = re.compile(r"\d+")
PAGE_NUMBER = re.compile(r"^\W*(page\s+)?\d+(\s*(of|/)\s*\d+)?\W*$", re.IGNORECASE)  # "3", "- 3 -", "Page 3 of 9"
EDGE_LINES = 3  # lines at the top and at the bottom of a page where running headers and footers live
INDENT = 2  # more leading spaces than the page's left margin: a paragraph's first line
SHORT_LINE = 0.7  # a line ending a sentence this much shorter than the page's longest starts a new paragraph
JUNK_TITLE = re.compile(r"^(microsoft (word|powerpoint) - |untitled)|\.(docx?|pdf|tex|dvi|indd|rtf|odt|pptx?)$",
                        re.IGNORECASE)
DECRYPT = "decrypt it first (e.g. `qpdf --decrypt --password=PASSWORD in.pdf out.pdf`)"
RESAVE = "it may be damaged; open it in a PDF viewer and save or print it to a new PDF"
# pypdf lays out about 60 pages a second here with an embedded font (the squad-dev PDFs of `eval --formats`),
# 230 with the base fonts: from this many pages a file takes a second or more, worth a progress bar of its own.
LONG_PDF_PAGES = 50


def read_pdf(path: Path, key: str, options: ReadOptions = READ_PLAINLY) -> Document:
    """The PDF's paragraphs; `options.pages_done` is told of each page read (a progress bar's source)."""
    pages_done = options.pages_done
    reader = open_pdf(path)
    try:
        count = len(reader.pages)
        pages = []
        for page in reader.pages:
            pages.append(page_lines(page))
            if pages_done is not None:
                pages_done(len(pages), count)
        info = reader.metadata
        # no date from the document info: /CreationDate is when the file was written (fpdf2, a printer driver or a
        # converter sets it to that moment), not when the text appeared; a date comes only from the text itself
        stated = {"title": pdf_title(info.title if info else None), "author": clean(info.author if info else None)}
    except SourceError:
        raise
    except Exception as exc:  # pypdf meets damage in many shapes; the user needs the file named, not a traceback
        if out_of_memory(exc):
            raise MemoryError from exc
        raise SourceError(f"{path} cannot be read as a PDF ({type(exc).__name__}); {RESAVE}") from None
    blocks = pdf_blocks(drop_running_lines(pages))
    if not blocks:
        raise SourceError(f"{path} has no text to read (a scanned PDF?); run OCR on it first "
                          "(e.g. `ocrmypdf in.pdf out.pdf`) or save its text as a .txt file")
    meta = file_meta(blocks, stated)
    return Document(key, with_sections(blocks, meta.get("title")), meta)


def open_pdf(path: Path):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # warnings about small defects it repairs are noise here
    try:
        reader = PdfReader(path)
    except Exception as exc:  # see read_pdf
        if out_of_memory(exc):
            raise MemoryError from exc
        raise SourceError(f"{path} cannot be read as a PDF ({type(exc).__name__}); {RESAVE}") from None
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # many PDFs are "encrypted" with an empty password only to restrict printing
        except (DependencyError, NotImplementedError) as exc:
            raise SourceError(f"{path} is encrypted and cannot be opened here ({exc}); {DECRYPT}") from None
        except Exception:
            opened = 0
        if not opened:
            raise SourceError(f"{path} is encrypted with a password; {DECRYPT}")
    return reader


def page_lines(page) -> list[str]:
    """The page's text as laid out (blank lines for vertical gaps, leading spaces for indents)."""
    try:
        text = page.extract_text(extraction_mode="layout")
    except Exception as exc:  # layout mode fails on some odd fonts; the plain text still has the lines
        if out_of_memory(exc):
            raise MemoryError from exc
        text = page.extract_text()
    return [line.rstrip() for line in (text or "").splitlines()]


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Each page without the lines at its top or bottom that recur on most pages (digits aside, so "Page 3 of 9"
    recurs) or are a page number alone."""
    edges = [edge_keys(lines) for lines in pages]
    counts = Counter(k for keys in edges for k in set(keys.values()))
    running = {k for k, n in counts.items() if n >= 2 and n * 2 >= len(pages)}
    return [[line for at, line in enumerate(lines)
             if at not in keys or (keys[at] not in running and not PAGE_NUMBER.match(line.strip()))]
            for lines, keys in zip(pages, edges, strict=True)]


def edge_keys(lines: list[str]) -> dict[int, str]:
    """The first and last few non-blank lines of a page by position, each with its text modulo digits."""
    filled = [at for at, line in enumerate(lines) if line.strip()]
    return {at: DIGITS.sub("#", " ".join(lines[at].split()).casefold())
            for at in filled[:EDGE_LINES] + filled[-EDGE_LINES:]}


def pdf_blocks(pages: list[list[str]]) -> list[Block]:
    """Paragraphs in reading order, each with the page it starts on; a paragraph a page leaves unfinished goes on
    with the next page's first."""
    blocks: list[Block] = []
    full_end = False  # whether the page before ended on a long line
    for number, lines in enumerate(pages, start=1):
        paragraphs, last_full = page_paragraphs(lines)
        for at, paragraph in enumerate(paragraphs):
            if at == 0 and blocks and continues(blocks[-1].text, paragraph, full_end):
                text = join_lines([blocks[-1].text, paragraph])
                blocks[-1] = Block(text, role_of(text, blocks[:-1]), blocks[-1].page)
            else:
                blocks.append(Block(paragraph, role_of(paragraph, blocks), number))
        full_end = last_full if paragraphs else full_end
    return blocks


def page_paragraphs(lines: list[str]) -> tuple[list[str], bool]:
    """A page's lines grouped into paragraphs, and whether its last line is a long one. A new paragraph starts
    after a blank line, at an indented line, after a line that ends a sentence well short of the page's width,
    and after a short line that ends no sentence (a heading set close above its text) where a capital follows:
    inside a paragraph only its last line falls short."""
    filled = [line for line in lines if line.strip()]
    if not filled:
        return [], False
    margin = min(len(line) - len(line.lstrip()) for line in filled)
    width = max(len(line.strip()) for line in filled)
    paragraphs, current = [], []
    for line in lines:
        indent = len(line) - len(line.lstrip())
        previous = current[-1].strip() if current else ""
        short = len(previous) < SHORT_LINE * width
        if current and (not line.strip() or indent >= margin + INDENT
                        or (short and (previous.endswith(SENTENCE_END) or not line.strip()[:1].islower()))):
            paragraphs.append(join_lines(current))
            current = []
        if line.strip():
            current.append(line)
    if current:
        paragraphs.append(join_lines(current))
    return paragraphs, len(filled[-1].strip()) >= SHORT_LINE * width


def join_lines(lines: list[str]) -> str:
    """Lines as one paragraph: spaces made single, a word broken at a line end rejoined."""
    text = ""
    for line in (" ".join(line.split()) for line in lines):
        if text and BROKEN_WORD.search(text) and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text


def continues(before: str, after: str, full_end: bool) -> bool:
    """Whether a page's first paragraph goes on with the last one of the page before: that one stops without
    ending a sentence, and is no heading (a short line) followed by a capitalised start."""
    if before.endswith(SENTENCE_END):
        return False
    return after[:1].islower() or full_end or not looks_like_heading(before)


def role_of(text: str, before: list[Block]) -> Role:
    return Role.HEADING if looks_like_heading(text) else prose_role(text, in_header(before))


def pdf_title(title: str | None) -> str | None:
    """The document info's title, unless it is a file name a converter left there."""
    title = clean(title)
    return None if title is None or JUNK_TITLE.search(title) else title
