"""The optional `sources.toml` beside the documents: a stable id and stated metadata for each file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError

MANIFEST_NAME = "sources.toml"
ENTRY_KEYS = {"id", "file", "title", "author", "date", "publication", "kind", "url"}
KINDS = {"news article", "opinion", "interview", "report", "book", "transcript", "other"}
SOURCE_ID = re.compile(r"^[\w][\w.\-]{0,99}$")


@dataclass(frozen=True)
class Entry:
    """One `[[source]]` table: the file it names and the metadata it gives."""

    id: str
    file: str
    meta: dict[str, str]


def load_manifest(folder: Path) -> dict[str, Entry]:
    """Manifest entries keyed by file path relative to the folder; empty when there is no manifest."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"source"}
    if unknown:
        raise SourceError(f"{path}: unknown top-level key {min(unknown)!r}; only [[source]] tables belong here")
    entries: dict[str, Entry] = {}
    seen_ids: dict[str, str] = {}
    for number, table in enumerate(data.get("source", []), start=1):
        entry = parse_entry(table, f"{path} [[source]] #{number}")
        if not (folder / entry.file).is_file():
            raise SourceError(f"{path} names {entry.file!r}, which is not in {folder}; fix or remove that entry")
        if entry.id in seen_ids:
            raise SourceError(f"{path}: duplicate source id {entry.id!r} ({seen_ids[entry.id]!r} and {entry.file!r})")
        if entry.file in entries:
            raise SourceError(f"{path}: {entry.file!r} is listed twice")
        seen_ids[entry.id] = entry.file
        entries[entry.file] = entry
    return entries


def parse_entry(table: object, where: str) -> Entry:
    if not isinstance(table, dict):
        raise SourceError(f"{where} must be a table")
    unknown = set(table) - ENTRY_KEYS
    if unknown:
        raise SourceError(f"{where}: unknown key {min(unknown)!r}; allowed keys: {', '.join(sorted(ENTRY_KEYS))}")
    for key in ("id", "file"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise SourceError(f"{where}: `{key}` is required and must be a string")
    for key, value in table.items():
        if not isinstance(value, str):
            raise SourceError(f"{where}: `{key}` must be a string, not {type(value).__name__}")
    if not SOURCE_ID.match(table["id"]):
        raise SourceError(f"{where}: id {table['id']!r} must be letters, digits, '.', '_' or '-' (at most 100)")
    if "kind" in table and table["kind"] not in KINDS:
        raise SourceError(f"{where}: kind {table['kind']!r} is not one of {', '.join(sorted(KINDS))}")
    meta = {k: v for k, v in table.items() if k not in {"id", "file"}}
    return Entry(table["id"], table["file"], meta)
