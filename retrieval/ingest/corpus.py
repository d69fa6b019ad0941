"""Load a folder of documents (or a BEIR corpus.jsonl) into sources and numbered passages."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import MAX_FILE_MB
from ..errors import SourceError
from ..records import ANSWERS, Passage, Source
from ..settings import DEFAULT_READING, ReadSettings
from .formats import FORMAT_SUFFIXES
from .manifest import MANIFEST_NAME, load_manifest
from .reader_process import read_bounded
from .readers import BEIR_CORPUS_NAME, TEXT_SUFFIXES, Document, read_beir
from .split import split_paragraph


@dataclass(frozen=True)
class Skipped:
    """A document of a folder that could not be read, left out of the build: its path relative to the folder and
    why, as a user can act on it (e.g. "encrypted with a password; decrypt it first ...")."""

    file: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.file} ({self.reason})"


@dataclass(frozen=True)
class Corpus:
    """Every source and every passage of it, in document order, with a fingerprint of the whole."""

    sources: dict[str, Source]
    passages: list[Passage]
    fingerprint: str
    skipped: list[Skipped] = field(default_factory=list)  # unreadable documents left out; not in the fingerprint

    def answerable(self) -> list[Passage]:
        return [p for p in self.passages if p.answerable]


def load_corpus(path: Path | str, max_file_mb: float = MAX_FILE_MB, progress: bool = False,
                reading: ReadSettings = DEFAULT_READING) -> Corpus:
    """Read a sources folder or a corpus.jsonl; raises SourceError with a clear message when it cannot.
    A .txt/.md document over `max_file_mb` is refused; a corpus.jsonl, many documents in one file, is not. Each
    document is read within `reading`'s bounds (reader_process.py). `progress`: a bar for each long PDF, on
    stderr."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"sources not found: {path} does not exist")
    if path.is_file():
        if path.suffix != ".jsonl":
            raise SourceError(f"{path} is a file; give a folder of .txt/.md documents or a BEIR corpus .jsonl")
        return assemble(list(read_beir(path)), path)
    skipped: list[Skipped] = []
    corpus = assemble(read_folder(path, max_file_mb, skipped, progress, reading), path)
    return replace(corpus, skipped=skipped)


def read_folder(folder: Path, max_file_mb: float = MAX_FILE_MB, skipped: list[Skipped] | None = None,
                progress: bool = False, reading: ReadSettings = DEFAULT_READING) -> list[Document]:
    """Each document of the folder; a manifest entry's metadata replaces what the file states. A document that
    cannot be read (damaged, encrypted, scanned, not UTF-8, too large, past a bound of `reading` ...) is left out
    and added to `skipped` (not logged here: a folder is read for a staleness check and again for a build, and the build
    says what it skipped, once); SourceError only when no document at all is left (or the manifest or a
    corpus.jsonl is wrong)."""
    manifest = load_manifest(folder)
    skipped = [] if skipped is None else skipped
    documents = []
    for file in document_files(folder):
        relative = file.relative_to(folder).as_posix()
        if file.name == BEIR_CORPUS_NAME:
            documents.extend(read_beir(file))
            continue
        try:
            documents.append(read_file(folder, file, manifest, max_file_mb, reading, progress))
        except SourceError as exc:
            skipped.append(Skipped(relative, reason(exc, file)))
    if not documents:
        left_out = f"; skipped {', '.join(map(str, skipped))}" if skipped else ""
        raise SourceError(f"{folder} holds no documents; add .txt, .md, .pdf, .html or .docx files "
                          f"(or a corpus.jsonl){left_out}",
                          public=f"no document in it can be read; add .txt, .md, .pdf, .html or .docx files"
                          f"{left_out}")
    return documents


def read_file(folder: Path, file: Path, manifest: dict, max_file_mb: float = MAX_FILE_MB,
              reading: ReadSettings = DEFAULT_READING, progress: bool = False) -> Document:
    """One document of the folder within `reading`'s bounds, its manifest entry's id and metadata applied;
    SourceError when it cannot be read or has nothing to answer from."""
    relative = file.relative_to(folder).as_posix()
    entry = manifest.get(relative)
    check_size(file, max_file_mb)
    document = read_bounded(file, entry.id if entry else slug(file.stem), reading, progress)
    check_has_text(document, file)
    meta = entry.meta if entry else document.meta
    return replace(document, meta={**meta, "file": relative})


def load_document(folder: Path, file: Path, max_file_mb: float = MAX_FILE_MB,
                  reading: ReadSettings = DEFAULT_READING) -> Corpus:
    """One document of a sources folder as a corpus of its own (a server's library indexes each apart)."""
    return assemble([read_file(folder, file, load_manifest(folder), max_file_mb, reading)], file)


def reason(error: SourceError, file: Path) -> str:
    """The error's message without the file's path it starts with (and a leading "is"), to follow the file's
    name: "encrypted with a password; decrypt it first ..."."""
    message = str(error)
    if message.startswith(str(file)):
        message = message[len(str(file)):].strip()
        message = message[3:] if message.startswith("is ") else message
    return message


def check_has_text(document: Document, file: Path) -> None:
    """Refuse a document with nothing to answer from (an empty file, a title alone): as a source of 0 passages
    it would be listed and cited by nobody, with no word said about it."""
    if not any(block.role in ANSWERS and block.text.strip() for block in document.blocks):
        raise SourceError(f"{file} has no paragraph to answer from (empty, or a heading alone); write its text, "
                          "or remove it")


def check_size(file: Path, max_file_mb: float) -> None:
    """Refuse a document too large to index in bounded time and memory, before reading it."""
    size = file.stat().st_size
    if size > max_file_mb * 1e6:
        raise SourceError(f"{file} is {size / 1e6:,.1f} MB ({size:,} bytes), over the {max_file_mb:g} MB a "
                          "document may have (`max_file_mb` in the config's [retrieval] table); split it into "
                          "several files, or raise the limit")


def document_files(folder: Path) -> list[Path]:
    """Readable documents below the folder, in a stable order, skipping hidden files and the manifest."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.name != MANIFEST_NAME
        and (p.suffix.lower() in TEXT_SUFFIXES or p.suffix.lower() in FORMAT_SUFFIXES or p.name == BEIR_CORPUS_NAME)
    )


def assemble(documents: list[Document], origin: Path) -> Corpus:
    sources: dict[str, Source] = {}
    passages: list[Passage] = []
    for doc in documents:
        if doc.key in sources:
            where = doc.meta.get("file") or origin
            raise SourceError(
                f"duplicate source id {doc.key!r} in {where}; give each document its own id in {MANIFEST_NAME}",
                public=f"two documents have the source id {doc.key!r}; remove or rename one"
            )
        meta = {k: v for k, v in doc.meta.items() if v}
        sources[doc.key] = Source(id=doc.key, **{"title": doc.key, **meta})
        passages += [Passage(doc.key, n, text, block.role, part, block.page, block.section)
                     for n, block in enumerate(doc.blocks, start=1)
                     for part, text in enumerate(split_paragraph(block.text), start=1)]
    if not any(p.answerable for p in passages):
        raise SourceError(f"{origin} holds no paragraphs of text to search",
                          public="the documents hold no paragraphs of text to search")
    return Corpus(sources, passages, fingerprint(sources, passages))


def fingerprint(sources: dict[str, Source], passages: list[Passage]) -> str:
    """A hash of everything a search shows, so any change to text, metadata or paragraphing is noticed."""
    digest = hashlib.sha256()
    for source in sources.values():
        digest.update(json.dumps(source.to_dict(), sort_keys=True).encode())
    for passage in passages:
        digest.update(json.dumps(passage.to_dict(), sort_keys=True).encode())
    return digest.hexdigest()


def slug(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "-", name.strip().lower()).strip("-") or "source"
