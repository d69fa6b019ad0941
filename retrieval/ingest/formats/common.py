"""What the format readers share: sections from headings, roles of prose paragraphs, dates as yyyy-mm-dd."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from ...records import Role
from ...settings import DEFAULT_READING, ReadSettings
from ..layout import BYLINE, CAPTION, HEADING_MAX_CHARS, Block
from ..readers import cap_field, derive_meta

PagesDone = Callable[[int, int], None]  # told (pages read, pages in all) after each page


@dataclass(frozen=True)
class ReadOptions:
    """What every format's reader is handed beside the file: the reading limits (a Word file's parts unzip to
    `reading.max_unzipped_mb` together) and who hears of each page read (a PDF's progress bar), each reader taking
    what concerns its format."""

    reading: ReadSettings = DEFAULT_READING
    pages_done: PagesDone | None = None


READ_PLAINLY = ReadOptions()


def prose_role(text: str, in_header: bool) -> Role:
    """A paragraph the format marks as prose: a caption by its shape, a byline only among the header blocks
    before the first body paragraph (a body sentence may well start "By 2010 ..."), else body."""
    flat = " ".join(text.split())
    if CAPTION.search(flat):
        return Role.CAPTION
    if in_header and BYLINE.match(flat) and len(flat) <= HEADING_MAX_CHARS:
        return Role.BYLINE
    return Role.BODY


def in_header(blocks: list[Block]) -> bool:
    return not any(block.role is Role.BODY for block in blocks)


def with_sections(blocks: list[Block], title: str | None) -> list[Block]:
    """Each block with its nearest preceding heading as its section, capped as metadata is (it is in every
    citation of the block); the document's title heading is no section (it names the whole document, which the
    citation already does)."""
    section = None
    done = []
    for block in blocks:
        if block.role is Role.HEADING:
            section = None if title and same(block.text, title) else cap_field(block.text)
        done.append(replace(block, section=section))
    return done


def same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def iso_date(value: date | datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value else None


def out_of_memory(error: Exception) -> bool:
    """Whether a reader's failure was memory running out (a ceiling reached: reader_process says so) rather than
    damage; libxml2 (under lxml: Word and web pages) says ERR_NO_MEMORY in a syntax error instead of raising."""
    return isinstance(error, MemoryError) or "ERR_NO_MEMORY" in str(getattr(error, "error_log", ""))


def clean(value: str | None) -> str | None:
    """A metadata string with white space tidied; None when it is empty."""
    value = " ".join(value.split()) if isinstance(value, str) else None
    return value or None


def file_meta(blocks: list[Block], stated: dict[str, str | None]) -> dict[str, str | None]:
    """What the document's own header says (readers.derive_meta), overridden by what the file's metadata states."""
    return {**derive_meta(blocks), **{k: v for k, v in stated.items() if v}}
