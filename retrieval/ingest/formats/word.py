"""Word documents with python-docx: one passage a paragraph, Title and Heading styles as headings, the Caption
style as captions, each table row as a paragraph; title, author and creation date from the core properties."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...errors import SourceError
from ...records import Role
from ..layout import Block
from ..readers import Document
from .common import (
    READ_PLAINLY,
    ReadOptions,
    clean,
    file_meta,
    in_header,
    iso_date,
    out_of_memory,
    prose_role,
    with_sections,
)
from .zipped import check_zip

HEADING_STYLES = ("Title", "Heading", "Subtitle")
# python-docx's own template says these; a file made with it and never given its own says nothing
TEMPLATE_AUTHOR = "python-docx"
TEMPLATE_CREATED = "2013-12-23"
RESAVE = "save it again from Word (or LibreOffice) as .docx"


class TooManyParagraphs(Exception):
    """More paragraphs with text than a document may give passages: refused before they are read."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def read_docx(path: Path, key: str, options: ReadOptions = READ_PLAINLY) -> Document:
    """The Word file's paragraphs and table rows, after its zip directory is checked (zipped.py): a part that would
    unzip past `options.reading.max_unzipped_mb` in all, or like a zip bomb, is never inflated. A file of more
    than `options.reading.passages` paragraphs with text is refused before they are read (a second each 10,000
    of them)."""
    import docx
    from docx.table import Table

    check_zip(path, options.reading.max_unzipped_mb, RESAVE)
    try:
        document = docx.Document(str(path))
        with_text = int(document.element.body.xpath("count(.//w:p[w:r/w:t])"))
        if with_text > options.reading.passages:
            raise TooManyParagraphs(with_text)
        style_of = style_names()
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            rows = ([" | ".join(cell_text(cell) for cell in row.cells) for row in item.rows]
                    if isinstance(item, Table) else None)
            if rows is not None:
                blocks += [Block(row, Role.BODY) for row in rows if row.strip(" |")]
            elif text := item.text.strip():
                blocks.append(Block(text, paragraph_role(style_of(item), text, blocks)))
        properties = document.core_properties
        author = clean(properties.author)
        created = iso_date(properties.created)
        stated = {"title": clean(properties.title),
                  "author": None if author == TEMPLATE_AUTHOR else author,
                  "date": None if created == TEMPLATE_CREATED and author == TEMPLATE_AUTHOR else created}
    except TooManyParagraphs as many:
        raise SourceError(f"{path} holds {many.count:,} paragraphs with text, over the {options.reading.passages:,} "
                          "passages one document may give (`passages` in the config's [retrieval.reading] table); "
                          "split it into several files, or join its short paragraphs") from None
    except Exception as exc:  # a damaged file fails in many shapes (not a zip, parts missing, bad XML); name it
        if out_of_memory(exc):
            raise MemoryError from exc
        raise SourceError(f"{path} is not a readable Word document ({type(exc).__name__}); {RESAVE}") from None
    if not blocks:
        raise SourceError(f"{path} has no text; add some in Word, or leave the file out")
    meta = file_meta(blocks, stated)
    return Document(key, with_sections(blocks, meta.get("title")), meta)


def style_names() -> Callable[[object], str]:
    """A paragraph's style name, looked up once per style: python-docx finds a paragraph's style by scanning every
    style of the file (about 1 ms a paragraph; 200,000 one-letter paragraphs took minutes)."""
    names: dict[str | None, str] = {}

    def name(paragraph) -> str:
        style_id = paragraph._p.style  # the paragraph's own style id (None: the default), as python-docx reads it
        if style_id not in names:
            style = paragraph.style
            names[style_id] = style.name if style is not None and style.name else ""
        return names[style_id]
    return name


def paragraph_role(style: str, text: str, before: list[Block]) -> Role:
    if style.startswith(HEADING_STYLES):
        return Role.HEADING
    if style == "Caption":
        return Role.CAPTION
    return prose_role(text, in_header(before))


def cell_text(cell) -> str:
    return " ".join(cell.text.split())
