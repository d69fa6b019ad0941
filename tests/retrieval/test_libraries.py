"""Servers' own libraries (retrieval/libraries.py): a server without documents costs nothing, one's library is
opened on first use and the least recently used closed past the limit, changes are indexed incrementally, and
emptying a library removes its index."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from retrieval import RetrievalConfig, Retriever, SourceError, load_corpus
from retrieval.ingest.prepared import prepare
from retrieval.libraries import Libraries, LibraryLimits, NotIndexed
from retrieval.settings import ReadSettings
from retrieval.store.layered import LayeredIndex
from retrieval.store.places import server_place
from tests.support.documents import make_docx

from ..conftest import PROJECT

WAIT_SECONDS = 30  # a bound on what takes a second or two

NOTE = b"Tides\n\nThe harbour tide tables are posted every Monday.\n"


def libraries(fast_retriever: Retriever, tmp_path: Path, open_at_once: int = 2) -> Libraries:
    config = RetrievalConfig(sources=tmp_path / "unused", index=tmp_path / "index")
    return Libraries(config, tmp_path / "servers", LibraryLimits(5, 1.0, open_at_once, 30), fast_retriever.encoder)


def test_libraries_open_on_first_use_and_the_least_recently_used_close(fast_retriever, tmp_path: Path):
    made = libraries(fast_retriever, tmp_path)
    for server in (1, 2, 3):
        made.add(server, f"note-{server}.txt", NOTE, 1.0, frozenset(fast_retriever.sources))
    assert made.retriever_for(None, fast_retriever) is fast_retriever  # a DM: the shared library alone
    assert made.retriever_for(99, fast_retriever) is fast_retriever  # a server with nothing of its own
    reopened = libraries(fast_retriever, tmp_path)  # a restart: nothing open, the servers with documents known
    assert reopened.open_count() == 0 and reopened.holding == {1, 2, 3}
    assert reopened.ready(99, fast_retriever) is fast_retriever and reopened.ready(1, fast_retriever) is None
    first = reopened.retriever_for(1, fast_retriever)
    assert reopened.ready(1, fast_retriever) is first  # open now: no disk needed (autocomplete)
    assert isinstance(first.index, LayeredIndex) and "note-1" in first.sources and "note-2" not in first.sources
    assert reopened.retriever_for(1, fast_retriever) is first  # kept while open
    reloaded = Retriever(fast_retriever.index, fast_retriever.encoder, fast_retriever.settings)  # a SIGHUP reload
    assert reopened.retriever_for(1, reloaded).index.layers[0] is reloaded.index
    reopened.retriever_for(2, fast_retriever)
    reopened.retriever_for(3, fast_retriever)
    assert reopened.open_count() == 2 and 1 not in reopened.opened  # the least recently used was closed
    assert "note-1" in reopened.retriever_for(1, fast_retriever).sources  # and opens again when asked


def test_changes_are_incremental_and_the_last_removal_empties_the_library(fast_retriever, tmp_path: Path):
    made = libraries(fast_retriever, tmp_path)
    _, first = made.add(7, "tides.txt", NOTE, 1.0, frozenset())
    _, second = made.add(7, "bells.txt", b"Bells\n\nThe bell rings twice at noon.\n", 1.0, frozenset())
    assert first.embedded == first.vectors and second.embedded == 1 < second.vectors  # only the new document
    with pytest.raises(SourceError, match="'park-hero' is one of the shared sources"):
        made.remove(7, "park-hero", frozenset({"park-hero"}))
    made.remove(7, "tides", frozenset({"tides"}))  # the shared library took its id later: still the server's
    _, emptied = made.remove(7, "bells", frozenset())
    assert emptied is None and not made.has_library(7) and made.index_of(7) is None
    assert not (tmp_path / "index" / "servers" / "7").exists()
    assert (tmp_path / "servers" / "7" / ".removed" / "tides.txt").read_bytes() == NOTE  # files kept aside
    with pytest.raises(SourceError, match="has added no documents of its own"):
        made.remove(7, "bells", frozenset())


def test_a_library_that_cannot_be_built_leaves_the_shared_answering(fast_retriever, tmp_path: Path):
    broken = tmp_path / "servers" / "5"
    broken.mkdir(parents=True)
    (broken / "scan.pdf").write_bytes(b"%PDF-1.4 not really")  # put there by hand: nothing readable
    made = libraries(fast_retriever, tmp_path)
    assert made.has_library(5) and made.retriever_for(5, fast_retriever) is fast_retriever
    made.close()  # the rebuild that began in the background is done: none runs beside the next
    with pytest.raises(SourceError, match=r"servers/5 holds no document that can be read; skipped scan\.pdf"):
        made.rebuild(5)  # /reindex says why


def test_a_saved_document_that_cannot_be_indexed_says_so(fast_retriever, tmp_path: Path):
    (tmp_path / "index").write_text("not a folder")  # the index cannot be written
    made = libraries(fast_retriever, tmp_path)
    with pytest.raises(NotIndexed, match="cannot write the index"):
        made.add(3, "tides.txt", NOTE, 1.0, frozenset())
    assert (tmp_path / "servers" / "3" / "tides.txt").read_bytes() == NOTE  # kept, for /reindex


def test_an_unwritable_servers_folder_is_a_clear_refusal(fast_retriever, tmp_path: Path):
    (tmp_path / "servers").write_text("a file where the servers' folders should be")
    with pytest.raises(SourceError, match=r"cannot make this server's folder .*writable `server_sources`"):
        libraries(fast_retriever, tmp_path).add(3, "tides.txt", NOTE, 1.0, frozenset())


def test_a_servers_retriever_shares_the_shared_ones_model_and_language_check(fast_retriever, tmp_path: Path):
    made = libraries(fast_retriever, tmp_path)
    made.add(4, "tides.txt", NOTE, 1.0, frozenset())
    layered = made.retriever_for(4, fast_retriever)
    assert layered.encoder is fast_retriever.encoder and layered.settings is fast_retriever.settings
    assert layered.language is fast_retriever.language  # its model is loaded once, not once per server


def index_files(tmp_path: Path) -> dict[Path, int]:
    return {f: f.stat().st_mtime_ns for f in (tmp_path / "index" / "servers").rglob("*") if f.is_file()}


def test_adding_or_removing_a_document_reads_embeds_and_writes_that_one_alone(fast_retriever, tmp_path: Path):
    made = libraries(fast_retriever, tmp_path)
    made.add(7, "tides.txt", NOTE, 1.0, frozenset())
    made.add(7, "bells.txt", b"Bells\n\nThe bell rings twice at noon.\n", 1.0, frozenset())
    # tides.txt can no longer be read: a change that read it again would leave it out
    (tmp_path / "servers" / "7" / "tides.txt").write_bytes(b"\xff\xfe not UTF-8 \xff")
    before = index_files(tmp_path)
    _, removed = made.remove(7, "bells", frozenset())
    after_removal = index_files(tmp_path)
    assert after_removal.items() <= before.items()  # nothing written: bells' index dropped, tides' untouched
    assert removed.sources == 1 and removed.embedded == 0 and removed.skipped == []
    added, built = made.add(7, "quays.txt", b"Quays\n\nThe east quay is closed on Sundays.\n", 1.0, frozenset())
    assert after_removal.items() <= index_files(tmp_path).items()  # only the new document's index was written
    assert built.embedded == added.passages and built.sources == 2 and built.skipped == []
    assert {"tides", "quays"} == set(made.retriever_for(7, fast_retriever).sources) - set(fast_retriever.sources)


def test_a_server_rebuild_reads_within_the_configured_reading_bounds(fast_retriever, tmp_path: Path):
    made = libraries(fast_retriever, tmp_path)
    made.add(8, "tides.txt", NOTE, 1.0, frozenset())
    docx = make_docx(tmp_path / "ferry.docx")  # put in the server's folder by hand, as an operator may
    (tmp_path / "servers" / "8" / "ferry.docx").write_bytes(docx.read_bytes())
    made.config = replace(made.config, reading=ReadSettings(max_unzipped_mb=0.01))  # its parts unzip past this
    built = made.rebuild(8)
    assert [s["file"] for s in built.skipped] == ["ferry.docx"] and "unzip" in built.skipped[0]["reason"]
    assert "ferry" not in made.retriever_for(8, fast_retriever).sources
    with pytest.raises(SourceError, match="unzip"):  # /add-source reads the same file within the same bounds
        made.add(8, "ferry2.docx", docx.read_bytes(), 1.0, frozenset())


def test_a_document_past_the_passages_a_document_may_give_is_refused_with_the_reason(fast_retriever,
                                                                                     tmp_path: Path):
    made = libraries(fast_retriever, tmp_path)
    made.config = replace(made.config, reading=ReadSettings(passages=3))
    many = b"Many\n\n" + b"\n\n".join(b"Line %d of the list." % n for n in range(4))
    with pytest.raises(SourceError, match=r"gives 4 passages, over the 3 one document may give \(`passages`"):
        made.add(9, "many.txt", many, 1.0, frozenset())
    made.add(9, "few.txt", many.rsplit(b"\n\n", 1)[0], 1.0, frozenset())  # three: within it


# A process adding a document, killed (SIGKILL) once the file is saved and being indexed: the encoder announces
# itself and waits for ever.
KILLED_ADD = """
import sys, time
from pathlib import Path
from retrieval import RetrievalConfig
from retrieval.libraries import Libraries, LibraryLimits
from tests.encoders import WordHashEncoder

class Stuck(WordHashEncoder):
    def encode(self, texts, on_batch=None):
        print("indexing", flush=True)
        time.sleep(600)

config = RetrievalConfig(sources=Path(sys.argv[1]), index=Path(sys.argv[2]))
Libraries(config, Path(sys.argv[3]), LibraryLimits(5, 1.0, 2, 30), Stuck()).add(
    7, "tides.txt", sys.argv[4].encode(), 1.0, frozenset())
"""


def test_a_document_saved_by_an_add_killed_before_indexing_is_indexed_at_the_next_start(
        fast_retriever, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    made = libraries(fast_retriever, tmp_path)
    made.add(7, "bells.txt", b"Bells\n\nThe bell rings twice at noon.\n", 1.0, frozenset())
    made.close()
    adding = subprocess.Popen([sys.executable, "-c", KILLED_ADD, str(tmp_path / "unused"), str(tmp_path / "index"),
                               str(tmp_path / "servers"), NOTE.decode()], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(PROJECT)})
    try:
        assert adding.stdout.readline().strip() == "indexing"
    finally:
        adding.kill()
        adding.wait(WAIT_SECONDS)
    assert (tmp_path / "servers" / "7" / "tides.txt").read_bytes() == NOTE  # saved, not indexed
    restarted = libraries(fast_retriever, tmp_path)
    with caplog.at_level(logging.INFO, logger="retrieval.libraries"):
        found = restarted.recover()
        for work in found.values():
            work.result(WAIT_SECONDS)
    assert [f.name for f in found] == ["tides.txt"]
    assert "tides" in restarted.retriever_for(7, fast_retriever).sources
    assert "tides.txt was saved but not indexed when the bot stopped: indexing it now" in caplog.text
    assert "tides.txt is indexed and answers now" in caplog.text
    assert libraries(fast_retriever, tmp_path).recover() == {}  # once


def test_a_saved_document_that_cannot_be_indexed_at_the_next_start_is_moved_aside(
        fast_retriever, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    folder = tmp_path / "servers" / "6"
    folder.mkdir(parents=True)
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 not really")  # as a killed add of another version left it
    (folder / ".indexing-scan.pdf").touch()
    made = libraries(fast_retriever, tmp_path)
    with caplog.at_level(logging.INFO, logger="retrieval.libraries"):
        for work in made.recover().values():
            work.result(WAIT_SECONDS)
    assert (folder / ".removed" / "scan.pdf").exists() and not (folder / "scan.pdf").exists()
    assert "scan.pdf cannot be indexed" in caplog.text and "moved aside" in caplog.text
    assert not made.has_library(6)


def test_a_library_indexed_whole_by_an_earlier_version_is_indexed_apart_reusing_its_vectors(fast_retriever,
                                                                                            tmp_path: Path):
    folder = tmp_path / "servers" / "7"
    folder.mkdir(parents=True)
    (folder / "tides.txt").write_bytes(NOTE)
    (folder / "bells.txt").write_bytes(b"Bells\n\nThe bell rings twice at noon.\n")
    made = libraries(fast_retriever, tmp_path)
    server_place(made.config, 7).build(prepare(load_corpus(folder)), fast_retriever.encoder, folder, progress=False)
    assert not made.has_index(7)  # its documents' own indexes are missing
    built = made.rebuild(7)  # as the first question's rebuild in the background does, or /reindex
    assert built.sources == 2 and built.embedded == 0  # every vector taken from the whole-library index
    assert {"tides", "bells"} <= set(made.retriever_for(7, fast_retriever).sources)
