"""Adding a document to a sources folder and taking one out: safe names, real readers, nothing overwritten."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from pypdf import PdfWriter

from retrieval import SourceError, load_corpus
from retrieval.ingest.adding import (
    REMOVED_FOLDER,
    SCRATCH_MARGIN_SECONDS,
    SCRATCH_PREFIX,
    add_document,
    remove_document,
)
from retrieval.settings import DEFAULT_READING

from ...conftest import PROJECT
from ...support.documents import make_docx, report_pdf

MB = 20.0


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "harbour.txt").write_text("Harbour Notes\n\nThe harbour opens at dawn and closes at dusk.\n")
    (folder / "tides.txt").write_text("Tides\n\nSpring tides come twice a month, at new and full moon.\n")
    return folder


def test_a_pdf_is_read_then_saved_under_a_safe_name(sources: Path, tmp_path: Path):
    data = report_pdf(tmp_path / "made.pdf").read_bytes()
    added = add_document(sources, "../../Rivers of the North (final).PDF", data, MB)
    assert added.path == sources / "rivers-of-the-north-final.pdf" and added.path.read_bytes() == data
    assert added.source_id == "rivers-of-the-north-final" and added.title == "Rivers of the North"
    assert added.passages > 3
    corpus = load_corpus(sources)
    assert "rivers-of-the-north-final" in corpus.sources and corpus.skipped == []
    assert sorted(p.name for p in sources.iterdir()) == ["harbour.txt", "rivers-of-the-north-final.pdf",
                                                         "tides.txt"]  # nothing left over from the check


@pytest.mark.parametrize("name", ["../../../etc/passwd.txt", "..\\..\\evil.md", ".hidden.txt", "/abs/x/.._note.txt"])
def test_a_name_never_leaves_the_folder_nor_hides(sources: Path, name: str):
    added = add_document(sources, name, b"Title\n\nA paragraph about ships and their cargo.\n", MB)
    assert added.path.parent == sources and not added.path.name.startswith(".")


def test_nothing_is_overwritten(sources: Path):
    before = (sources / "tides.txt").read_bytes()
    with pytest.raises(SourceError, match="a source with id 'tides' is already in the sources; remove it first"):
        add_document(sources, "Tides.md", b"# Tides\n\nOther text.\n", MB)
    assert (sources / "tides.txt").read_bytes() == before and not (sources / "tides.md").exists()


def test_a_broken_or_unsupported_or_oversized_file_is_refused_with_the_reason(sources: Path, tmp_path: Path):
    locked = tmp_path / "locked.pdf"
    shutil.copy(report_pdf(tmp_path / "plain.pdf"), locked)
    writer = PdfWriter(clone_from=str(locked))
    writer.encrypt("secret")
    writer.write(str(locked))
    with pytest.raises(SourceError, match=r"^locked\.pdf was not added: encrypted"):
        add_document(sources, "locked.pdf", locked.read_bytes(), MB)
    with pytest.raises(SourceError, match=r"^notes\.docx was not added: "):
        add_document(sources, "notes.docx", b"PK\x03\x04 not a zip at all", MB)
    with pytest.raises(SourceError, match=r"'tool\.exe' is not a kind of document the sources can hold; send one"):
        add_document(sources, "tool.exe", b"MZ", MB)
    with pytest.raises(SourceError, match=r"big\.txt is 2\.0 MB, over the 1 MB a document may have"):
        add_document(sources, "big.txt", b"x" * 2_000_000, 1.0)
    with pytest.raises(SourceError, match="no paragraphs of text"):
        add_document(sources, "empty.txt", b"\n\n", MB)
    assert sorted(p.name for p in sources.iterdir()) == ["harbour.txt", "tides.txt"]


def test_a_word_file_gets_its_title_from_its_properties(sources: Path, tmp_path: Path):
    added = add_document(sources, "ferry.docx", make_docx(tmp_path / "f.docx").read_bytes(), MB)
    assert (added.source_id, added.title) == ("ferry", "Ferry Crossings")


def test_removing_moves_the_file_aside(sources: Path):
    moved = remove_document(sources, "tides")
    assert moved == sources / REMOVED_FOLDER / "tides.txt" and moved.is_file()
    assert list(load_corpus(sources).sources) == ["harbour"]  # the folder's readers skip .removed/
    (sources / "tides.txt").write_text("Tides\n\nNeap tides come between them.\n")
    again = remove_document(sources, "tides")
    assert again.parent == moved.parent and again != moved and moved.is_file()  # the first copy is kept


def test_removing_refuses_what_it_must_not_touch(sources: Path, tmp_path: Path):
    with pytest.raises(SourceError, match="no document with id 'nope' in the sources"):
        remove_document(sources, "nope")
    remove_document(sources, "tides")
    with pytest.raises(SourceError, match="'harbour' is the only document in the sources; add another"):
        remove_document(sources, "harbour")
    seeds = tmp_path / "seeds"
    shutil.copytree(PROJECT / "seeds", seeds)
    with pytest.raises(SourceError, match=r"'park-hero' is listed in sources\.toml; remove its entry there"):
        remove_document(seeds, "park-hero")


def test_a_corpus_file_takes_no_documents(tmp_path: Path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"_id": "a", "title": "A", "text": "Some text."}\n')
    with pytest.raises(SourceError, match="not a folder, so documents cannot be added"):
        add_document(corpus, "x.txt", b"T\n\nText.\n", MB)


def test_a_look_alike_name_mixing_scripts_is_refused(sources: Path):
    look_alike = "\u0440\u0430rk-hero.txt"  # Cyrillic er and a, then Latin: looks like park-hero
    with pytest.raises(SourceError, match=r"mixes letters of 2 scripts \(CYRILLIC, LATIN\) in its name, as "
                                          r"look-alike names do .*rename the file"):
        add_document(sources, look_alike, b"Park\n\nA paragraph about the park.\n", MB)
    assert add_document(sources, "東京タワー-notes.txt", b"Tower\n\nA paragraph about the tower.\n", MB)
    assert add_document(sources, "\uff50\uff41\uff52\uff4b.txt", b"Park\n\nFull-width letters.\n", MB).source_id == \
        "park"  # full-width letters are the letters they show
    assert sorted(p.name for p in sources.iterdir()) == ["harbour.txt", "park.txt", "tides.txt", "東京タワー-notes.txt"]
    add_document(sources, "cocoa.txt", b"Cocoa\n\nA paragraph about cocoa.\n", MB)
    with pytest.raises(SourceError, match=r"looks like the source id 'cocoa' already in the sources, in letters of "
                                          r"another script"):
        add_document(sources, "\u0441\u043e\u0441\u043e\u0430.txt", b"Cocoa\n\nAll in Cyrillic.\n", MB)
    river = add_document(sources, "\u0440\u0435\u043a\u0430.txt", b"River\n\nA Russian word.\n", MB)
    assert river.source_id == "\u0440\u0435\u043a\u0430"  # one script, like no other id: fine


def test_an_add_killed_midway_leaves_a_scratch_folder_the_next_add_cleans(sources: Path):
    stale, fresh = sources / f"{SCRATCH_PREFIX}killed", sources / f"{SCRATCH_PREFIX}running"
    for scratch in (stale, fresh):
        scratch.mkdir()
        (scratch / "report.pdf").write_bytes(b"%PDF- half written")
    long_ago = time.time() - DEFAULT_READING.seconds - SCRATCH_MARGIN_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))
    add_document(sources, "notes.txt", b"Notes\n\nA paragraph of notes.\n", MB)
    assert not stale.exists() and fresh.is_dir()  # one that may still be another add's is left
