"""Tell a document's page chrome, headings, bylines and captions apart from its body paragraphs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..records import Role

# Navigation and footer lines that web pages carry into copied text; never part of a document.
CHROME_LINES = re.compile(
    r"^(top of page|bottom of page|back to top|back to all \w+|skip to (main )?content|"
    r"share( this( article| story)?)?|print( this)?( article)?|advertisement|menu|close|"
    r"([\w.&'’-]+ ){0,4}(youtube|facebook|twitter|x|instagram|linkedin|rss)"
    r"( ?[|·] ?[\w ]+)*)$",
    re.IGNORECASE,
)
BYLINE = re.compile(r"^By\s+\S", re.IGNORECASE)
CAPTION = re.compile(r"\((photo|image|picture)( credit)?:[^)]*\)\s*$|^(photo|image)( credit)?:", re.IGNORECASE)
SENTENCE_END = ('.', '!', '?', '"', '”', '’', "'", ')', ']', ':', ';')
HEADING_MAX_CHARS = 160
HEADING_MAX_WORDS = 20


@dataclass(frozen=True)
class Block:
    """A blank-line-separated block of a document with its role; a paged or sectioned format (retrieval/formats)
    also gives the page it starts on and its nearest preceding heading."""

    text: str
    role: Role
    page: int | None = None
    section: str | None = None


def split_blocks(text: str) -> list[str]:
    """Split text on blank lines, dropping chrome lines; whitespace inside a block is kept verbatim."""
    blocks = []
    for raw in re.split(r"\n[ \t\r\f\v]*\n", text.replace("\r\n", "\n")):
        lines = [line.rstrip() for line in raw.split("\n") if not is_chrome(line)]
        block = "\n".join(lines).strip("\n")
        if block.strip():
            blocks.append(block.strip())
    return blocks


def is_chrome(line: str) -> bool:
    return bool(CHROME_LINES.match(line.strip().replace("\xa0", " ")))


def classify(block: str, markdown: bool = False) -> Role:
    """Decide a block's role from its shape; anything that reads as prose is BODY."""
    flat = " ".join(block.split())
    if markdown and block.lstrip().startswith("#"):
        return Role.HEADING
    if CAPTION.search(flat):
        return Role.CAPTION
    if BYLINE.match(flat) and len(flat) <= HEADING_MAX_CHARS:
        return Role.BYLINE
    if looks_like_heading(block):
        return Role.HEADING
    return Role.BODY


def looks_like_heading(block: str) -> bool:
    flat = " ".join(block.split())
    return (
        "\n" not in block.strip()
        and len(flat) <= HEADING_MAX_CHARS
        and len(flat.split()) <= HEADING_MAX_WORDS
        and not flat.endswith(SENTENCE_END)
    )


def layout(text: str, markdown: bool = False) -> list[Block]:
    """The document's blocks in order, chrome removed, each with its role."""
    return [Block(block, classify(block, markdown)) for block in split_blocks(text)]
