"""Near-duplicate search on hostile text: a tiny vocabulary, or paragraphs alike but not alike enough, costs a few
comparisons a passage, not one for every pair; real near copies among them are still grouped; and the search runs
in the reader's worker process, within the reading bounds, never in the caller's (the bot's) process."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from retrieval import RetrievalError, load_corpus
from retrieval.ingest import dedupe
from retrieval.ingest.prepared import prepare
from retrieval.ingest.reader_process import group_bounded
from retrieval.records import Passage
from retrieval.settings import ReadSettings
from retrieval.store.build import build_index
from retrieval.store.index import open_index

from ...encoders import WordHashEncoder

FEW_PER_PASSAGE = 8  # "a few comparisons a passage": dedupe.COMPARISONS_PER_PASSAGE


def tiny_vocabulary(count: int, seed: int = 0) -> list[Passage]:
    """`count` distinct 30-word paragraphs over 10 words, each in a source of its own (as in issue 27: every
    word-triple is common, so prefix filtering compared nearly every pair)."""
    rng = random.Random(seed)
    words = ["ash", "birch", "cedar", "elm", "fir", "hazel", "oak", "pine", "rowan", "yew"]
    return [Passage(f"page-{i}", 1, " ".join(rng.choices(words, k=30))) for i in range(count)]


def alike_but_not_enough(count: int) -> list[Passage]:
    """Paragraphs that share 30 words and differ in 20: every pair about 0.4 alike, close to the 0.6 threshold."""
    shared = " ".join(f"common{i}" for i in range(30))
    return [Passage(f"page-{i}", 1, f"{shared} " + " ".join(f"own{i}x{j}" for j in range(20))) for i in range(count)]


def near_copy(passage: Passage) -> Passage:
    """The passage in another source with one word changed."""
    words = passage.text.split()
    words[15] = "walnut"
    return Passage("copied", 1, " ".join(words))


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the exact comparisons the search makes."""
    made = [0]
    exact = dedupe.jaccard

    def counted(a, b) -> float:
        made[0] += 1
        return exact(a, b)

    monkeypatch.setattr(dedupe, "jaccard", counted)
    return made


@pytest.mark.parametrize("hostile", [tiny_vocabulary, alike_but_not_enough])
def test_hostile_text_costs_a_few_comparisons_a_passage_and_real_copies_are_still_found(hostile, comparisons):
    passages = hostile(2000)
    passages.append(near_copy(passages[700]))
    groups = dedupe.duplicate_groups(passages)
    assert groups == [[700, 2000]]
    assert comparisons[0] <= FEW_PER_PASSAGE * len(passages)


def test_past_its_budget_the_search_says_how_many_likely_pairs_it_left_unchecked():
    grouping = dedupe.find_duplicates(alike_but_not_enough(500))
    assert grouping.groups == []
    assert grouping.compared == dedupe.COMPARISONS_PER_PASSAGE * 500
    assert grouping.undecided > 0


def test_the_search_runs_in_the_reader_process_not_the_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def here(*_) -> None:
        raise AssertionError("the near-duplicate search ran in the caller's process")

    monkeypatch.setattr(dedupe.Shingler, "__call__", here)
    sources = tmp_path / "sources"
    sources.mkdir()
    text = "The ferry leaves the harbour at dawn and returns before the evening tide turns."
    (sources / "timetable.txt").write_text(f"Timetable\n\n{text}\n\nTickets are sold on board.\n")
    (sources / "notice.txt").write_text(f"Notice\n\nA note on crossings.\n\n{text.replace('dawn', 'sunrise')}\n")
    build_index(prepare(load_corpus(sources)), WordHashEncoder(), tmp_path / "index", sources, progress=False)
    index = open_index(tmp_path / "index")
    copied = [row for row in range(len(index.rows)) if "harbour" in index.passages_at([row])[0].text]
    assert len(copied) == 2 and index.copies_of(copied[0]) == copied


def test_a_search_past_the_reading_deadline_is_stopped_and_the_build_goes_on_without_groups(
        tmp_path: Path, caplog: pytest.LogCaptureFixture):
    passages = tiny_vocabulary(4000)
    with pytest.raises(RetrievalError, match=r"^Finding near-duplicates among 4,000 passages took more than "
                                             r"0\.05 s, so it was stopped \(`seconds` in the config's "
                                             r"\[retrieval\.reading\] table\)"):
        group_bounded(passages, ReadSettings(seconds=0.05))
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "pages.txt").write_text("\n\n".join(p.text for p in passages))
    (sources / "copy.txt").write_text(passages[0].text)
    with caplog.at_level(logging.WARNING):
        build_index(prepare(load_corpus(sources), ReadSettings(seconds=0.05)), WordHashEncoder(), tmp_path / "index",
                    sources, progress=False)
    assert "this build groups no near-duplicates" in caplog.text
    assert open_index(tmp_path / "index").duplicates == {}
