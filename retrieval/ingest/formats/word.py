"""Word documents with python-docx: one passage a paragraph, Title and Heading styles as headings, the Caption
style as captions, each table row as a paragraph; title, author and creation date from the core properties."""

from __future__ import annotations

from pathlib import Path

from ...errors import SourceError
from ...records import Role
from ..layout import Block
from ..readers import Document
from .common import clean, file_meta, in_header, iso_date, prose_role, with_sections

HEADING_STYLES = ("Title", "Heading", "Subtitle")
# python-docx's own template says these; a file made with it and never given its own says nothing
TEMPLATE_AUTHOR = "python-docx"
TEMPLATE_CREATED = "2013-12-23"
RESAVE = "save it again from Word (or LibreOffice) as .docx"


def read_docx(path: Path, key: str) -> Document:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            rows = ([" | ".join(cell_text(cell) for cell in row.cells) for row in item.rows]
                    if isinstance(item, Table) else None)
            if rows is not None:
                blocks += [Block(row, Role.BODY) for row in rows if row.strip(" |")]
            elif text := item.text.strip():
                blocks.append(Block(text, paragraph_role(item, text, blocks)))
        properties = document.core_properties
        author = clean(properties.author)
        created = iso_date(properties.created)
        stated = {"title": clean(properties.title),
                  "author": None if author == TEMPLATE_AUTHOR else author,
                  "date": None if created == TEMPLATE_CREATED and author == TEMPLATE_AUTHOR else created}
    except Exception as exc:  # a damaged file fails in many shapes (not a zip, parts missing, bad XML); name it
        raise SourceError(f"{path} is not a readable Word document ({type(exc).__name__}); {RESAVE}") from None
    if not blocks:
        raise SourceError(f"{path} has no text; add some in Word, or leave the file out")
    meta = file_meta(blocks, stated)
    return Document(key, with_sections(blocks, meta.get("title")), meta)


def paragraph_role(paragraph, text: str, before: list[Block]) -> Role:
    style = paragraph.style.name if paragraph.style is not None else ""
    if style.startswith(HEADING_STYLES):
        return Role.HEADING
    if style == "Caption":
        return Role.CAPTION
    return prose_role(text, in_header(before))


def cell_text(cell) -> str:
    return " ".join(cell.text.split())
