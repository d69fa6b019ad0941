"""Answers a reader can trust: duplicates shown once with every citation, the answering sentence marked,
the paragraphs around a quote on request, and each ranking mode selectable."""

from dataclasses import replace
from itertools import combinations

import pytest

from retrieval import ConfigError, Passage, Retriever, load_corpus
from retrieval.ingest.dedupe import DUPLICATE_JACCARD, duplicate_groups, similarity
from retrieval.ingest.sentences import sentence_spans

from ...conftest import SEEDS

COPIED = "What should be done instead of giving official assistance to the North Korean government?"


def test_the_threshold_separates_copied_paragraphs_from_partial_quotes():
    passages = load_corpus(SEEDS).answerable()
    groups = duplicate_groups(passages)
    pairs = sorted((passages[a].source_id, passages[a].paragraph, passages[b].source_id, passages[b].paragraph)
                   for a, b in groups)
    assert pairs == [("park-hero", 12, "freedom-collection-ji", 13), ("park-hero", 13, "freedom-collection-ji", 14)]
    quoting = next(p for p in passages if p.source_id == "park-hero" and p.paragraph == 11)
    quoted = next(p for p in passages if p.source_id == "freedom-collection-ji" and p.paragraph == 12)
    assert similarity(quoting.text, quoted.text) < DUPLICATE_JACCARD


def test_grouping_finds_exactly_the_pairs_a_full_comparison_finds():
    """Prefix filtering only skips pairs that cannot reach the threshold: check it against every pair, on the
    seeds plus copies of their paragraphs cut short by a growing number of words (some near, some not)."""
    seeds = load_corpus(SEEDS).answerable()
    copies = [replace(p, source_id=f"copy-{i}", text=" ".join(p.text.split()[i % 6 * 8:]))
              for i, p in enumerate(seeds)]
    passages = seeds + copies
    every_pair = {(a, b) for a, b in combinations(range(len(passages)), 2)
                  if passages[a].source_id != passages[b].source_id
                  and similarity(passages[a].text, passages[b].text) >= DUPLICATE_JACCARD}
    grouped = {pair for group in duplicate_groups(passages) for pair in combinations(sorted(group), 2)}
    assert every_pair == grouped
    kept = sum((i, i + len(seeds)) in every_pair for i in range(len(seeds)))
    assert 0 < kept < len(seeds)  # the threshold is tested from both sides


def brute_force_groups(passages: list[Passage]) -> list[list[int]]:
    """Duplicate groups by comparing every pair: connected components of the cross-source near-copy pairs."""
    group = list(range(len(passages)))
    for a, b in combinations(range(len(passages)), 2):
        if passages[a].source_id != passages[b].source_id and similarity(passages[a].text, passages[b].text) \
                >= DUPLICATE_JACCARD:
            old, new = group[b], group[a]
            group = [new if g == old else g for g in group]
    members = {g: [row for row in range(len(passages)) if group[row] == g] for g in group}
    return sorted(rows for rows in members.values() if len(rows) > 1)


def test_exact_copies_within_one_source_group_only_with_another_source():
    text = "The committee met in Seoul on Monday to discuss the resettlement of refugees from the north."
    near = text.replace("Monday", "Tuesday")
    other = "A different paragraph about rivers, mountains and the long road south through three countries."
    passages = [Passage("a", 1, text), Passage("a", 2, text), Passage("b", 1, near), Passage("a", 3, other),
                Passage("a", 4, other.upper()), Passage("c", 1, text + " Extra words make it a near copy."),
                Passage("c", 2, ""), Passage("d", 1, "")]
    assert duplicate_groups(passages) == brute_force_groups(passages) == [[0, 1, 2, 5]]


def test_thousands_of_copies_of_one_paragraph_are_one_group():
    text = "Subscribe to our newsletter for weekly updates on North Korean human rights and refugee news."
    passages = [Passage(f"page-{i}", 1, text) for i in range(4000)] + [Passage("other", 1, COPIED)]
    assert duplicate_groups(passages) == [list(range(4000))]


@pytest.mark.slow
def test_a_copied_paragraph_is_shown_once_with_both_citations(retriever: Retriever):
    hits = retriever.answer(COPIED, k=5, gate=False).hits
    copies = [h for h in hits if "instead of giving official assistance" in h.text]
    assert len(copies) == 1
    cited = {copies[0].source.id, *(place.source.id for place in copies[0].also_in)}
    assert cited == {"park-hero", "freedom-collection-ji"}
    assert copies[0].to_dict()["also_in"][0]["citation"].startswith("[")


@pytest.mark.slow
def test_the_answering_sentence_is_highlighted_by_offsets(retriever: Retriever):
    best = retriever.search("How many North Korean refugees has NAUH resettled?")[0]
    (start, end), *_ = best.highlights
    assert best.text[start:end].startswith("To date, about 215 North Korean refugees")
    assert best.text[end - 1] == "."


def test_sentences_split_after_closing_quotes_but_not_at_abbreviations():
    text = 'He said, “We go.” Then they all left at once! Did they really go?'
    assert [text[a:b] for a, b in sentence_spans(text)] == ["He said, “We go.”", "Then they all left at once!",
                                                             "Did they really go?"]
    assert sentence_spans("Mr. Ji met Dr. Park in the U.S.") == [(0, 31)]


def test_a_fragment_joins_the_sentence_before_it():
    # alone, a lone closing quote or a two-word tail gets a vector that matches unrelated questions
    text = "The regime broke the trust of the people. ” -- Ed."
    assert [text[a:b] for a, b in sentence_spans(text)] == [text]


def test_context_gives_the_paragraphs_around_a_hit(fast_retriever: Retriever):
    best = fast_retriever.search("How many North Korean refugees has NAUH resettled?")[0]
    before, after = fast_retriever.context(best, 1)
    assert [p.paragraph for p in before] == [7] and [p.paragraph for p in after] == [9]
    assert after[0].text.startswith("As Ji has indicated")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_finds_the_resettlement_paragraph(retriever: Retriever, mode: str):
    best = retriever.search("How many North Korean refugees has NAUH resettled?",
                            settings=replace(retriever.settings, mode=mode))[0]
    assert "about 215 North Korean refugees" in best.text


def test_an_unknown_mode_is_refused(fast_retriever: Retriever):
    with pytest.raises(ConfigError, match="`mode` must be one of 'hybrid', 'dense', 'lexical', not 'fuzzy'"):
        fast_retriever.search("NAUH", settings=replace(fast_retriever.settings, mode="fuzzy"))


@pytest.mark.slow
def test_questions_with_no_searchable_word_do_not_fail(retriever: Retriever):
    # BM25 has nothing to match here (stopwords, emoji); the dense side still decides
    assert isinstance(retriever.search("Who is it that they were?"), list)
    assert retriever.search("🙂🙂🙂") == []
