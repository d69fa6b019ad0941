"""Servers' own libraries (retrieval/libraries.py): a server without documents costs nothing, one's library is
opened on first use and the least recently used closed past the limit, changes are indexed incrementally, and
emptying a library removes its index."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import RetrievalConfig, Retriever, SourceError
from retrieval.libraries import Libraries, LibraryLimits, NotIndexed
from retrieval.store.layered import LayeredIndex

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
