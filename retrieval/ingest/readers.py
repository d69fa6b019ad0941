"""Read one file into a Document: its blocks with roles and the metadata the file itself states."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..records import Role
from .layout import Block, layout

TEXT_SUFFIXES = {".txt": False, ".md": True, ".markdown": True}
BEIR_CORPUS_NAME = "corpus.jsonl"
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]
MONTH_RE = "|".join(MONTHS)
DATE_PATTERNS = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), lambda m: (m[1], m[2], m[3])),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), lambda m: (m[3], m[1], m[2])),
    (re.compile(rf"\b({MONTH_RE})\s+(\d{{1,2}}),?\s+(\d{{4}})\b"), lambda m: (m[3], _month(m[1]), m[2])),
    (re.compile(rf"\b(\d{{1,2}})\s+({MONTH_RE})\s+(\d{{4}})\b"), lambda m: (m[3], _month(m[2]), m[1])),
)
BRACKETED_AUTHOR = re.compile(r"^\[(?P<author>[^\]]{2,60})\]\s+(?P<title>.+)$")
FRONT_MATTER = re.compile(r"\A---\n(?P<body>.*?)\n---\n", re.DOTALL)
FRONT_MATTER_KEYS = ("title", "author", "date", "publication", "kind", "url")
# What a metadata field (title, author, publication ...) or a section's name may hold. Each goes into every
# citation of the document, and every citation into every answer shown; a 9 MB author field once made five
# answers 45 MB. The longest title of SciFact's 5,183 abstracts is 300 characters, and stays whole; the seeds'
# are under 110 (and Discord shows 256 characters of a citation anyway).
MAX_META_CHARS = 300
MAX_URL_CHARS = 2048  # browsers and sitemaps.org keep URLs under 2,048 characters; a longer one is no address
UNCAPPED_META = ("file",)  # the path inside the sources folder that the build itself sets, not the file's say


@dataclass(frozen=True)
class Document:
    """A file's blocks and the metadata stated in it (None where it states nothing), each field capped."""

    key: str
    blocks: list[Block]
    meta: dict[str, str | None]

    def __post_init__(self) -> None:
        capped = {k: v if k in UNCAPPED_META else cap_field(v, k) for k, v in self.meta.items()}
        object.__setattr__(self, "meta", capped)


def cap_field(value: str | None, name: str = "") -> str | None:
    """A metadata value cut to MAX_META_CHARS (a URL to MAX_URL_CHARS) at a space where one is near, with "…"."""
    limit = MAX_URL_CHARS if name == "url" else MAX_META_CHARS
    if not isinstance(value, str) or len(value) <= limit:
        return value
    cut = value[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip() + "…"


def read_text(path: Path) -> str:
    """A file's text, refusing binary and non-UTF-8 files with a message that says how to fix them."""
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise SourceError(f"{path} looks like a binary file; sources must be UTF-8 .txt/.md files or corpus.jsonl")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path} is not UTF-8 text (bad byte at position {exc.start}); convert it, e.g. `iconv -f latin1 -t utf-8`"
        ) from None


def read_document(path: Path, key: str) -> Document:
    """A plain text or Markdown file: a paragraph is a blank-line-separated block."""
    text = read_text(path)
    meta: dict[str, str | None] = {}
    if TEXT_SUFFIXES.get(path.suffix.lower()) and (front := FRONT_MATTER.match(text)):
        meta = parse_front_matter(front["body"])
        text = text[front.end():]
    blocks = layout(text, markdown=TEXT_SUFFIXES.get(path.suffix.lower(), False))
    return Document(key, blocks, {**derive_meta(blocks), **meta})


def read_beir(path: Path) -> Iterator[Document]:
    """A BEIR corpus.jsonl: one document a line with `_id`, `title` and `text`."""
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path} line {number} is not a BEIR record with `_id` and `text` ({exc})") from None
        doc_id, title, text = beir_fields(record, f"{path} line {number}")
        blocks = [Block(title.strip(), Role.HEADING)] if title.strip() else []
        blocks += [Block(block.strip(), Role.BODY) for block in re.split(r"\n\s*\n", text) if block.strip()]
        yield Document(doc_id, blocks, {"title": title.strip() or None})


def beir_fields(record: object, where: str) -> tuple[str, str, str]:
    """A BEIR record's id, title and text; SourceError when the id or the text is missing, null or not text
    (str() would make a null id the source "None")."""
    if not isinstance(record, dict):
        raise SourceError(f"{where} is not a BEIR record with `_id` and `text`")
    doc_id, title, text = record.get("_id"), record.get("title"), record.get("text")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)  # some corpora number their documents
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise SourceError(f"{where} has no `_id` (it is missing, null, empty or not a string); every document "
                          "needs its own id")
    if not isinstance(text, str):
        raise SourceError(f"{where} has no `text` (it is missing, null or not a string)")
    return doc_id, "" if title is None else str(title), text


def parse_front_matter(body: str) -> dict[str, str | None]:
    meta = {}
    for line in body.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in FRONT_MATTER_KEYS and value.strip():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta


def derive_meta(blocks: list[Block]) -> dict[str, str | None]:
    """Title, author and date as the document's own header states them."""
    header = []
    for block in blocks:
        if block.role is Role.BODY:
            break
        header.append(block)
    bylines = [b for b in blocks if b.role is Role.BYLINE]
    title = next((b.text for b in header if b.role is Role.HEADING), None)
    author = byline_author(bylines[0].text) if bylines else None
    if title and (bracketed := BRACKETED_AUTHOR.match(title)):
        title, author = bracketed["title"], author or bracketed["author"]
    date = next((d for b in header + bylines if (d := find_date(b.text))), None)
    return {"title": title.lstrip("# ").strip() if title else None, "author": author, "date": date}


def byline_author(byline: str) -> str | None:
    name = re.sub(r"^By\s+", "", " ".join(byline.replace("\xa0", " ").split()), flags=re.IGNORECASE)
    name = re.split(r"\s+(?:\d|\(|on\s|[|,—–-]\s)", name, maxsplit=1)[0].strip()
    return name or None


def find_date(text: str) -> str | None:
    """The first date in the text, as ISO yyyy-mm-dd."""
    for pattern, parts in DATE_PATTERNS:
        if match := pattern.search(text):
            year, month, day = parts(match)
            return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return None


def _month(name: str) -> str:
    return str(MONTHS.index(name) + 1)
