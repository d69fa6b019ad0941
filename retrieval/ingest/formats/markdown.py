"""Markdown with markdown-it-py: `#` and underlined headings are headings, paragraphs and list items are passages,
as the reader sees them rendered (emphasis marks and link targets left out, a hard-wrapped paragraph one flowing
paragraph: a line break in the source is a space on screen, so a sentence across it stays one sentence)."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ...errors import SourceError
from ...records import Role
from ..layout import Block
from ..readers import FRONT_MATTER, Document, parse_front_matter, read_text
from .common import READ_PLAINLY, ReadOptions, file_meta, in_header, prose_role, with_sections

PARSER = MarkdownIt("commonmark").enable("table")
# markdown-it skips whatever lies deeper than its maxNesting (20, CommonMark's preset) without a word; the
# parser recurses once a level, so a much deeper limit only moves the cliff. Such a file is refused instead.
MAX_NESTING = PARSER.options.maxNesting
CONTAINERS = ("blockquote_open", "list_item_open")


def read_markdown(path: Path, key: str, options: ReadOptions = READ_PLAINLY) -> Document:
    text = read_text(path)
    stated: dict[str, str | None] = {}
    front_lines = 0
    if front := FRONT_MATTER.match(text.replace("\r\n", "\n")):
        stated = parse_front_matter(front["body"])
        text = text.replace("\r\n", "\n")[front.end():]
        front_lines = front.group(0).count("\n")
    tokens = PARSER.parse(text)
    if (deep := too_deep(tokens)) is not None:
        line = front_lines + deep + 1
        raise SourceError(f"{path} nests quotes or lists more than {MAX_NESTING} deep (from line {line}), and "
                          "the Markdown reader stops there, so the rest would be lost; flatten that part, or save "
                          "the file as .txt")
    blocks = markdown_blocks(tokens)
    meta = file_meta(blocks, stated)
    return Document(key, with_sections(blocks, meta.get("title")), meta)


def too_deep(tokens: list[Token]) -> int | None:
    """The 0-based line of the first quote or list item opened at the deepest level: the parser reads what is in
    those (and only those) one level further down, and leaves out what would go past MAX_NESTING."""
    for token in tokens:
        if token.type in CONTAINERS and token.level >= MAX_NESTING - 1:
            return token.map[0] if token.map else 0
    return None


def markdown_blocks(tokens: list[Token]) -> list[Block]:
    blocks: list[Block] = []
    row: list[str] = []
    for at, token in enumerate(tokens):
        if token.type == "inline" and at and tokens[at - 1].type == "heading_open":
            if heading := rendered(token).strip():
                blocks.append(Block(heading, Role.HEADING))
        elif token.type == "inline" and at and tokens[at - 1].type == "paragraph_open":
            if paragraph := rendered(token).strip():
                blocks.append(Block(paragraph, prose_role(paragraph, in_header(blocks))))
        elif token.type == "inline" and token.level and tokens[at - 1].type in ("th_open", "td_open"):
            row.append(rendered(token).strip())
        elif token.type == "tr_close":
            if any(row):
                blocks.append(Block(" | ".join(row), Role.BODY))
            row = []
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(Block(token.content.strip("\n"), Role.BODY))
    return blocks


def rendered(inline: Token) -> str:
    """An inline token's text as rendered: text and code kept, markup dropped, a soft break (a line break in the
    source) a space and a hard break (two trailing spaces or a backslash) a line break."""
    out = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out)
