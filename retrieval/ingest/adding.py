"""A document added to a sources folder (bytes and the name it came with in; a checked file under a safe name
out) or taken out of it (a source id in; the file moved aside, never deleted)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath

from ..errors import SourceError
from ..settings import DEFAULT_READING, ReadSettings
from .corpus import Corpus, assemble, document_files, reason, slug
from .formats import FORMAT_SUFFIXES
from .manifest import MANIFEST_NAME, load_manifest
from .reader_process import START_SECONDS, read_bounded
from .readers import TEXT_SUFFIXES

ADDABLE_SUFFIXES = frozenset({".txt"} | set(TEXT_SUFFIXES) | FORMAT_SUFFIXES)
REMOVED_FOLDER = ".removed"  # hidden, so the folder's readers skip it; the files stay for whoever wants them
MAX_NAME_CHARS = 80  # a source id shows in citations and in Discord's 100-character choices
SCRATCH_PREFIX = ".adding-"  # hidden, so builds never see a document being checked
# Writing a document and starting a reader take seconds; an add's scratch folder older than its reading's
# deadline and this much is one a killed process left behind.
SCRATCH_MARGIN_SECONDS = 10 * START_SECONDS
# Scripts that one language writes together (Japanese: kanji with kana; Korean: hangul with hanja), and with
# Latin, which none of them looks like (Unicode TS 39's "highly restrictive" level allows the same); any other
# mix of scripts in one name is how look-alike names are made ("park-hero" with a Cyrillic "p" and "a").
SCRIPT_FAMILIES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "KATAKANA-HIRAGANA": "CJK", "HANGUL": "CJK",
                   "IDEOGRAPHIC": "CJK"}
WRITTEN_TOGETHER = frozenset({"LATIN", "CJK"})
# Cyrillic and Greek lower-case letters drawn like Latin ones (Unicode's confusables.txt lists them), for a name
# written wholly in one of those scripts to look like a Latin one: "\u0441\u043e\u0441\u043e\u0430" and "cocoa".
LOOK_ALIKES = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u04bb\u0501\u051b\u051d"
    "\u03bf\u03bd\u03b9\u03ba\u03c1\u03c5\u03c7",
    "aeopcyxijshdqwovikpux")


@dataclass(frozen=True)
class Added:
    """A document now in the sources folder, read and checked: where it is, the id it answers under, its title,
    how many passages it gives, and what was read (to index it without reading it again)."""

    path: Path
    source_id: str
    title: str
    passages: int
    corpus: Corpus = field(repr=False, compare=False)


def add_document(folder: Path, filename: str, data: bytes, max_file_mb: float,
                 reading: ReadSettings = DEFAULT_READING, reserved: frozenset[str] = frozenset(),
                 saving: Callable[[Path], None] | None = None) -> Added:
    """Save `data` into `folder` under a name made from `filename` (never a path taken from it), after reading it
    with its format's reader within `reading`'s bounds; SourceError says why a document is refused. An existing
    file or id is never replaced, nor an id `reserved` (taken in a library searched together with this folder's).
    `saving` hears of the file just before it is saved (to note, where a crash would leave it, that it is not
    yet indexed)."""
    folder = writable_folder(folder)
    clean_scratch(folder, reading)
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ADDABLE_SUFFIXES:
        kinds = ", ".join(sorted(ADDABLE_SUFFIXES))
        raise SourceError(f"{safe_display(filename)} is not a kind of document the sources can hold; send one of "
                          f"{kinds}")
    source_id = safe_stem(filename)
    if len(mixed := scripts(source_id)) > 1 and not mixed <= WRITTEN_TOGETHER:
        raise SourceError(f"{safe_display(filename)} mixes letters of {len(mixed)} scripts "
                          f"({', '.join(sorted(mixed))}) in its name, as look-alike names do (a Cyrillic letter "
                          "that looks Latin); rename the file with the letters of one script and send it again")
    target = folder / f"{source_id}{suffix}"
    taken = existing_ids(folder) | reserved
    if source_id in taken or target.exists():
        raise SourceError(f"a source with id {source_id!r} is already in the sources; remove it first, or rename "
                          "the file and send it again")
    if twin := next((t for t in sorted(taken) if looks_like(source_id, t)), None):
        raise SourceError(f"{safe_display(filename)} looks like the source id {twin!r} already in the sources, in "
                          "letters of another script; rename the file and send it again")
    if len(data) > max_file_mb * 1e6:
        raise SourceError(f"{target.name} is {len(data) / 1e6:,.1f} MB, over the {max_file_mb:g} MB a document "
                          "may have; split it into several files")
    with tempfile.TemporaryDirectory(dir=folder, prefix=SCRATCH_PREFIX) as scratch:
        staged = Path(scratch) / target.name
        try:
            staged.write_bytes(data)
        except OSError as error:
            raise not_written(target, error) from None
        try:
            # the format's own reader, then the check a build makes: at least one paragraph to search
            document = read_bounded(staged, source_id, reading)
            corpus = assemble([replace(document, meta={**document.meta, "file": target.name})], staged)
        except SourceError as error:
            raise SourceError(f"{target.name} was not added: {reason(error, staged)}") from None
        if saving is not None:
            saving(target)
        try:
            os.link(staged, target)  # fails rather than replace a file that appeared meanwhile
        except FileExistsError:
            raise SourceError(f"{target.name} appeared in the sources while it was being checked; "
                              "send it again") from None
        except OSError as error:
            raise not_written(target, error) from None
    source = corpus.sources[source_id]
    return Added(target, source_id, source.title, len(corpus.answerable()), corpus)


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
    return set_aside(folder, file)


def set_aside(folder: Path, file: Path) -> Path:
    """Move a document out of the sources into the folder's .removed/, renamed if need be; its new path."""
    aside = folder / REMOVED_FOLDER
    aside.mkdir(exist_ok=True)
    target = aside / file.name
    if target.exists():
        target = aside / f"{file.stem}-{time.strftime('%Y%m%d-%H%M%S')}{file.suffix}"
    file.rename(target)
    return target


def not_written(target: Path, error: OSError) -> SourceError:
    """A document that could not be written into its folder (a full disk, no permission): the folder is for
    whoever runs the program, not for whoever sent the document."""
    return SourceError(f"cannot write {target.name} into {target.parent}: {error.strerror}",
                       public=f"the bot could not save {target.name} ({error.strerror}); tell whoever runs the bot")


def writable_folder(folder: Path) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"the sources are {folder}, not a folder, so documents cannot be added to or removed "
                          "from them; use a folder of documents",
                          public="the bot's sources are not a folder, so documents cannot be added or removed; "
                          "tell whoever runs the bot")
    if not os.access(folder, os.W_OK):
        raise SourceError(f"the sources folder {folder} cannot be written; give the bot write access to it",
                          public="the bot cannot write its sources folder; tell whoever runs the bot")
    return folder


def existing_ids(folder: Path) -> set[str]:
    """The ids the folder's documents answer under: the manifest's, else each file's name."""
    manifest = load_manifest(folder)
    ids = {entry.id for entry in manifest.values()}
    ids |= {slug(f.stem) for f in document_files(folder) if f.relative_to(folder).as_posix() not in manifest}
    return ids


def clean_scratch(folder: Path, reading: ReadSettings) -> None:
    """Delete the scratch folders of adds that cannot still be running (a process killed mid-add leaves its
    own); a younger one may be another add's, and is left."""
    stale = time.time() - reading.seconds - SCRATCH_MARGIN_SECONDS
    for scratch in folder.glob(f"{SCRATCH_PREFIX}*"):
        try:
            if scratch.is_dir() and not scratch.is_symlink() and scratch.stat().st_mtime < stale:
                shutil.rmtree(scratch)
        except OSError:  # gone meanwhile, or not ours to delete: the next add tries again
            continue


def scripts(name: str) -> set[str]:
    """The scripts of a name's letters, by their Unicode names ("LATIN SMALL LETTER A", "CYRILLIC SMALL LETTER
    A"), those one language writes together counted as one."""
    found = set()
    for char in name:
        if char.isalpha():
            script = unicodedata.name(char, "UNKNOWN").split()[0]
            found.add(SCRIPT_FAMILIES.get(script, script))
    return found


def looks_like(name: str, other: str) -> bool:
    """Whether two different names read the same once Cyrillic and Greek look-alikes are read as Latin."""
    return name != other and name.translate(LOOK_ALIKES) == other.translate(LOOK_ALIKES)


def safe_stem(filename: str) -> str:
    """A file name's last part in NFKC form (full-width letters as the letters they show), lower case letters,
    digits, '.', '_' and '-' only, never hidden, capped."""
    stem = unicodedata.normalize("NFKC", PurePath(filename.replace("\\", "/")).stem)
    cleaned = slug(stem).lstrip(".-_")[:MAX_NAME_CHARS].rstrip(".-_")
    return cleaned or "document"


def safe_display(filename: str) -> str:
    """A user's file name as it may be echoed in a message: its last part, capped."""
    return repr(PurePath(filename.replace("\\", "/")).name[:MAX_NAME_CHARS])
