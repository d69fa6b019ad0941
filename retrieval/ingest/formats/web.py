"""Web pages with trafilatura: only the article's own text (its headings, paragraphs, list items, quotes and
table rows), never navigation, cookie banners, related stories, comments or footers; title, author, date and
site name from the page's meta and Open Graph tags, structured data and byline."""

from __future__ import annotations

import logging
from pathlib import Path

from ...errors import SourceError
from ...records import Role
from ..layout import Block
from ..readers import Document
from .common import READ_PLAINLY, ReadOptions, clean, file_meta, out_of_memory, same, with_sections

# Dates only from the page's metadata and markup: an "extensive" search would take any date in the text (a
# copyright year, an event) for the publication date.
DATE_PARAMS = {"extensive_search": False, "original_date": True}
NO_TEXT = ("has no article text that could be told apart from the page around it; save the article's own page "
           "(not a home or index page), or paste its text into a .txt file")


def read_html(path: Path, key: str, options: ReadOptions = READ_PLAINLY) -> Document:
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # it logs each page it discards; we raise instead
    try:
        page = trafilatura.bare_extraction(
            path.read_bytes(), with_metadata=True, include_comments=False, include_tables=True,
            include_images=False, output_format="python", date_extraction_params=DATE_PARAMS)
    except Exception as exc:  # a parser failure on a strange page must name the file, not end in a traceback
        if out_of_memory(exc):
            raise MemoryError from exc
        raise SourceError(f"{path} could not be read as a web page ({type(exc).__name__}); {NO_TEXT}") from None
    blocks = article_blocks(page.body) if page is not None and page.body is not None else []
    if not any(block.role is Role.BODY for block in blocks):
        raise SourceError(f"{path} {NO_TEXT}")
    title = clean(page.title)
    if title and not (blocks[0].role is Role.HEADING and same(blocks[0].text, title)):
        blocks.insert(0, Block(title, Role.HEADING))  # the headline a reader sees above the article
    stated = {"title": title, "author": clean(page.author), "date": clean(page.date),
              "publication": clean(page.sitename), "url": clean(page.url)}
    meta = file_meta(blocks, stated)
    return Document(key, with_sections(blocks, meta.get("title")), meta)


def article_blocks(body) -> list[Block]:
    """trafilatura's article tree as blocks: `head` elements are headings, every other element a paragraph,
    each list item and table row one of its own."""
    blocks = []
    for element in body:
        if element.tag == "list":
            parts = [(item, Role.BODY) for item in element.iter("item")]
        elif element.tag == "table":
            parts = [(row, Role.BODY) for row in element.iter("row")]
        else:
            parts = [(element, Role.HEADING if element.tag == "head" else Role.BODY)]
        for part, role in parts:
            cells = part.findall("cell") if part.tag == "row" else None
            text = " | ".join(flat(cell) for cell in cells) if cells else flat(part)
            if text:
                blocks.append(Block(text, role))
    return blocks


def flat(element) -> str:
    return " ".join("".join(element.itertext()).split())
