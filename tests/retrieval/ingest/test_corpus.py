"""Loading sources: the manifest's metadata, metadata derived from files, and clear errors for bad folders."""

import json
import re
from pathlib import Path

import pytest

from retrieval import Passage, SourceError, load_corpus
from retrieval.ingest.split import MAX_PASSAGE_CHARS

from ...conftest import GOLD, SEED_PASSAGES, SEEDS


def test_seeds_load_with_manifest_metadata():
    corpus = load_corpus(SEEDS)
    assert list(corpus.sources) == ["lee-defectors-2017", "park-hero", "freedom-collection-ji"]
    park = corpus.sources["park-hero"]
    assert (park.author, park.publication, park.kind, park.date) == ("Robert Park", "Korea Herald", "opinion", None)
    assert corpus.sources["freedom-collection-ji"].date == "2024-11-22"
    assert len(corpus.answerable()) == SEED_PASSAGES


def test_the_gold_questions_beside_the_seeds_are_not_a_document(tmp_path: Path):
    assert GOLD.parent == SEEDS
    (tmp_path / "note.txt").write_text("A Note\n\nThe tide turns twice a day.\n", encoding="utf-8")
    without = load_corpus(tmp_path)
    (tmp_path / "gold.toml").write_text(GOLD.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_corpus(tmp_path).fingerprint == without.fingerprint


def test_a_document_without_manifest_entry_gets_metadata_from_its_own_text(tmp_path: Path):
    (tmp_path / "Field Notes.txt").write_text(
        "Back To Top\n\nA Report From The Border\n\nBy Min-ji Kim  03/04/2021\n\nWe walked for days.\n",
        encoding="utf-8")
    source = load_corpus(tmp_path).sources["field-notes"]
    assert (source.title, source.author, source.date) == ("A Report From The Border", "Min-ji Kim", "2021-03-04")


def test_markdown_front_matter_gives_metadata(tmp_path: Path):
    (tmp_path / "note.md").write_text("---\ntitle: On Rivers\nauthor: A. Writer\ndate: 2020-05-06\n---\n\n"
                                      "# On Rivers\n\nRivers run to the sea.\n", encoding="utf-8")
    source = load_corpus(tmp_path).sources["note"]
    assert (source.title, source.author, source.date) == ("On Rivers", "A. Writer", "2020-05-06")


def test_beir_corpus_jsonl_gives_one_source_per_line(tmp_path: Path):
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("\n".join(json.dumps(r) for r in [
        {"_id": "d1", "title": "Cells", "text": "Cells divide."},
        {"_id": "d2", "title": "", "text": "Stars burn."},
    ]), encoding="utf-8")
    corpus = load_corpus(corpus_file)
    assert [s.title for s in corpus.sources.values()] == ["Cells", "d2"]
    assert [p.text for p in corpus.answerable()] == ["Cells divide.", "Stars burn."]


def test_fingerprint_changes_when_any_text_changes(tmp_path: Path):
    (tmp_path / "a.txt").write_text("One paragraph here.", encoding="utf-8")
    before = load_corpus(tmp_path).fingerprint
    (tmp_path / "a.txt").write_text("One paragraph here!", encoding="utf-8")
    assert load_corpus(tmp_path).fingerprint != before


@pytest.mark.parametrize(("files", "message"), [
    ({}, "holds no documents"),
    ({"a.txt": b"\x89PNG\r\n\x1a\n\x00\x00binary"}, "binary file"),
    ({"a.txt": "caf\xe9 latin-1".encode("latin-1")}, "not UTF-8"),
    ({"a.txt": b"One.", "A.md": b"Two."}, "duplicate source id 'a'"),
    ({"a.txt": b"One.", "sources.toml": b'[[source]]\nid = "x"\nfile = "missing.txt"\n'}, "missing.txt"),
    ({"a.txt": b"One.", "sources.toml": b'[[source]]\nid = "x"\nfile = "a.txt"\nauthr = "typo"\n'}, "unknown key"),
    ({"a.txt": b"One.", "b.txt": b"Two.",
      "sources.toml": b'[[source]]\nid = "x"\nfile = "a.txt"\n[[source]]\nid = "x"\nfile = "b.txt"\n'},
     "duplicate source id 'x'"),
    ({"a.txt": b"One.", "sources.toml": b"[[source]\n"}, "not valid TOML"),
    ({"corpus.jsonl": b'{"_id": "1", "text": "ok"}\n{not json}\n'}, "line 2"),
    ({"corpus.jsonl": b'{"_id": "1", "text": "ok"}\n{"_id": null, "text": "ok"}\n'}, "line 2 has no `_id`"),
    ({"corpus.jsonl": b'{"_id": " ", "text": "ok"}\n'}, "line 1 has no `_id`"),
    ({"corpus.jsonl": b'{"_id": ["1"], "text": "ok"}\n'}, "line 1 has no `_id`"),
    ({"corpus.jsonl": b'{"_id": "1", "text": null}\n'}, "line 1 has no `text`"),
])
def test_bad_sources_get_one_clear_error(tmp_path: Path, files: dict[str, bytes], message: str):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(SourceError, match=message):
        load_corpus(tmp_path)


def test_a_missing_folder_is_named(tmp_path: Path):
    with pytest.raises(SourceError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")


def test_a_document_over_the_size_limit_is_skipped_with_its_size(tmp_path: Path, caplog):
    (tmp_path / "small.txt").write_text("A short note.", encoding="utf-8")
    (tmp_path / "huge.txt").write_text("Word after word. " * 1000, encoding="utf-8")  # 17,000 bytes
    corpus = load_corpus(tmp_path, max_file_mb=0.01)
    assert list(corpus.sources) == ["small"]
    (skipped,) = corpus.skipped
    assert skipped.file == "huge.txt"
    assert re.match(r"0\.0 MB \(17,000 bytes\), over the 0\.01 MB .*`max_file_mb`", skipped.reason)
    assert caplog.messages == []  # reading says nothing; the build that leaves it out does, once
    full = load_corpus(tmp_path, max_file_mb=0.02)
    assert len(full.sources) == 2 and full.skipped == []


def test_a_non_utf8_text_file_is_skipped_and_the_rest_loads(tmp_path: Path):
    (tmp_path / "good.txt").write_text("A Note\n\nThe tide turns twice a day.\n", encoding="utf-8")
    without = load_corpus(tmp_path)
    (tmp_path / "latin.txt").write_bytes("caf\xe9 latin-1".encode("latin-1"))
    corpus = load_corpus(tmp_path)
    assert list(corpus.sources) == ["good"] and corpus.fingerprint == without.fingerprint
    assert [(s.file, s.reason[:12]) for s in corpus.skipped] == [("latin.txt", "not UTF-8 te")]


def test_a_folder_of_only_unreadable_documents_still_fails_naming_them(tmp_path: Path):
    (tmp_path / "a.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "b.txt").write_bytes(b"\x00\x01binary")
    with pytest.raises(SourceError, match=r"holds no documents; .*skipped a\.txt \(not UTF-8.*, b\.txt \(") as caught:
        load_corpus(tmp_path)
    assert "\n" not in str(caught.value)


def test_a_manifest_entry_for_a_missing_file_still_fails(tmp_path: Path):
    (tmp_path / "a.txt").write_text("One paragraph here.", encoding="utf-8")
    (tmp_path / "sources.toml").write_text('[[source]]\nid = "gone"\nfile = "gone.txt"\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"names 'gone\.txt', which is not in"):
        load_corpus(tmp_path)


def test_a_paragraph_too_long_for_one_passage_is_cut_at_sentence_ends(tmp_path: Path):
    long = " ".join(f"Sentence {i} of a paragraph that runs on about the river." for i in range(100))
    (tmp_path / "river.txt").write_text(f"The River\n\n{long}\n\nThe sea is salty.\n", encoding="utf-8")
    passages = load_corpus(tmp_path).passages
    assert [(p.paragraph, p.part) for p in passages] == [(1, 1), (2, 1), (2, 2), (2, 3), (3, 1)]
    parts = [p.text for p in passages if p.paragraph == 2]
    assert " ".join(parts) == long and all(len(part) <= MAX_PASSAGE_CHARS for part in parts)
    assert all(part.endswith("river.") for part in parts)


def test_a_passage_record_names_its_part_only_after_the_first():
    first, second = Passage("river", 2, "One."), Passage("river", 2, "Two.", part=2)
    assert "part" not in first.to_dict()  # so indexes built before paragraphs were cut still match
    assert [Passage.from_dict(p.to_dict()) for p in (first, second)] == [first, second]
