"""A document added to a sources folder (bytes and the name it came with in; a checked file under a safe name
out) or taken out of it (a source id in; the file moved aside, never deleted)."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePath

from ..errors import SourceError
from .corpus import assemble, document_files, reason, slug
from .formats import FORMAT_SUFFIXES, read_any
from .manifest import MANIFEST_NAME, load_manifest
from .readers import TEXT_SUFFIXES

ADDABLE_SUFFIXES = frozenset({".txt"} | set(TEXT_SUFFIXES) | FORMAT_SUFFIXES)
REMOVED_FOLDER = ".removed"  # hidden, so the folder's readers skip it; the files stay for whoever wants them
MAX_NAME_CHARS = 80  # a source id shows in citations and in Discord's 100-character choices


@dataclass(frozen=True)
class Added:
    """A document now in the sources folder, read and checked: where it is, the id it answers under, its title
    and how many passages it gives."""

    path: Path
    source_id: str
    title: str
    passages: int


def add_document(folder: Path, filename: str, data: bytes, max_file_mb: float,
                 reserved: frozenset[str] = frozenset()) -> Added:
    """Save `data` into `folder` under a name made from `filename` (never a path taken from it), after reading it
    with its format's reader; SourceError says why a document is refused. An existing file or id is never
    replaced, nor an id `reserved` (taken in a library searched together with this folder's)."""
    folder = writable_folder(folder)
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ADDABLE_SUFFIXES:
        kinds = ", ".join(sorted(ADDABLE_SUFFIXES))
        raise SourceError(f"{safe_display(filename)} is not a kind of document the sources can hold; send one of "
                          f"{kinds}")
    source_id = safe_stem(filename)
    target = folder / f"{source_id}{suffix}"
    taken = existing_ids(folder) | reserved
    if source_id in taken or target.exists():
        raise SourceError(f"a source with id {source_id!r} is already in the sources; remove it first, or rename "
                          "the file and send it again")
    if len(data) > max_file_mb * 1e6:
        raise SourceError(f"{target.name} is {len(data) / 1e6:,.1f} MB, over the {max_file_mb:g} MB a document "
                          "may have; split it into several files")
    with tempfile.TemporaryDirectory(dir=folder, prefix=".adding-") as scratch:  # hidden: builds never see it
        staged = Path(scratch) / target.name
        try:
            staged.write_bytes(data)
        except OSError as error:
            raise SourceError(f"cannot write {target.name} into {folder}: {error.strerror}") from None
        try:
            # the format's own reader, then the check a build makes: at least one paragraph to search
            corpus = assemble([read_any(staged, source_id)], staged)
        except SourceError as error:
            raise SourceError(f"{target.name} was not added: {reason(error, staged)}") from None
        try:
            os.link(staged, target)  # fails rather than replace a file that appeared meanwhile
        except FileExistsError:
            raise SourceError(f"{target.name} appeared in the sources while it was being checked; "
                              "send it again") from None
        except OSError as error:
            raise SourceError(f"cannot write {target.name} into {folder}: {error.strerror}") from None
    source = corpus.sources[source_id]
    return Added(target, source_id, source.title, len(corpus.answerable()))


def remove_document(folder: Path, source_id: str, keep_one: bool = True) -> Path:
    """Move the file of `source_id` into the folder's .removed/ (where it is kept, renamed if need be) and return
    its new path. A source listed in sources.toml is refused (the manifest is the user's), and with `keep_one`
    the only one (an index needs a document; a server's own library may be emptied)."""
    folder = writable_folder(folder)
    manifest = load_manifest(folder)
    if any(entry.id == source_id for entry in manifest.values()):
        raise SourceError(f"{source_id!r} is listed in {MANIFEST_NAME}; remove its entry there and move its file "
                          "out of the sources by hand")
    documents = document_files(folder)
    matching = [f for f in documents if f.relative_to(folder).as_posix() not in manifest and slug(f.stem) == source_id]
    if not matching:
        raise SourceError(f"no document with id {source_id!r} in the sources")
    if keep_one and len(documents) == 1:
        raise SourceError(f"{source_id!r} is the only document in the sources; add another before removing it")
    (file,) = matching  # one file per id: a build refuses duplicate ids
    aside = folder / REMOVED_FOLDER
    aside.mkdir(exist_ok=True)
    target = aside / file.name
    if target.exists():
        target = aside / f"{file.stem}-{time.strftime('%Y%m%d-%H%M%S')}{file.suffix}"
    file.rename(target)
    return target


def writable_folder(folder: Path) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"the sources are {folder}, not a folder, so documents cannot be added to or removed "
                          "from them; use a folder of documents")
    if not os.access(folder, os.W_OK):
        raise SourceError(f"the sources folder {folder} cannot be written; give the bot write access to it")
    return folder


def existing_ids(folder: Path) -> set[str]:
    """The ids the folder's documents answer under: the manifest's, else each file's name."""
    manifest = load_manifest(folder)
    ids = {entry.id for entry in manifest.values()}
    ids |= {slug(f.stem) for f in document_files(folder) if f.relative_to(folder).as_posix() not in manifest}
    return ids


def safe_stem(filename: str) -> str:
    """A file name's last part, lower case letters, digits, '.', '_' and '-' only, never hidden, capped."""
    stem = PurePath(filename.replace("\\", "/")).stem
    cleaned = slug(stem).lstrip(".-_")[:MAX_NAME_CHARS].rstrip(".-_")
    return cleaned or "document"


def safe_display(filename: str) -> str:
    """A user's file name as it may be echoed in a message: its last part, capped."""
    return repr(PurePath(filename.replace("\\", "/")).name[:MAX_NAME_CHARS])
