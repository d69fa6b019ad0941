"""Searching the real seeds index with the real model: the right passage, cited, and nothing when off-topic."""

from dataclasses import replace

import pytest

from retrieval import QueryError, RetrievalConfig, Retriever, open_retriever
from retrieval.settings import SearchSettings

from ...conftest import SEEDS
from ...encoders import WordHashEncoder


@pytest.mark.slow
def test_the_215_refugees_paragraph_answers_the_resettlement_question(retriever: Retriever):
    best = retriever.search("How many North Korean refugees has NAUH resettled?")[0]
    assert best.text.startswith("To date, about 215 North Korean refugees")
    assert best.source.id == "park-hero" and best.passage.paragraph == 8
    assert best.citation == '[Robert Park, "Ji Seong-ho: Hero fostering unity and inspiring change", Korea Herald, ¶8]'


def test_hits_quote_the_source_verbatim(fast_retriever: Retriever):
    hits = fast_retriever.search("What does Ji say about markets and the Jangmadang?", k=3)
    assert hits
    for hit in hits:
        assert hit.text in (SEEDS / hit.source.file).read_text(encoding="utf-8")


@pytest.mark.slow
def test_off_topic_questions_get_no_hits(retriever: Retriever):
    assert retriever.search("Who won the 2018 World Cup?") == []
    assert retriever.search("How do I reset my password?") == []


def test_k_limits_the_hits_and_ranks_are_in_order(fast_retriever: Retriever):
    hits = fast_retriever.answer("Ji Seong-ho and NAUH", k=5, gate=False).hits
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    # a hit's score is its fused score: in the order of the ranking, unless late interaction re-read the first ones
    plain = fast_retriever.answer("Ji Seong-ho and NAUH", k=5, gate=False,
                                  settings=replace(fast_retriever.settings, late_interaction=False)).hits
    assert [h.score for h in plain] == sorted((h.score for h in plain), reverse=True)


def test_answer_json_has_the_documented_fields(fast_retriever: Retriever):
    answer = fast_retriever.answer("When did NAUH start?", k=2).to_dict()
    assert set(answer) == {"query", "took_ms", "covered", "relevance", "mode", "k", "min_relevance", "results"}
    assert set(answer["results"][0]) == {"rank", "score", "source_id", "title", "author", "date", "paragraph",
                                         "page", "section", "text", "citation", "cosine", "relevance", "role",
                                         "also_in", "highlights"}
    # the answer's relevance is the gate's (do the sources answer it?), each result's its own (does it?)
    assert answer["covered"] and answer["relevance"] >= answer["min_relevance"]
    assert all(0 <= r["relevance"] <= 1 for r in answer["results"])


@pytest.mark.parametrize(("question", "message"), [
    ("", "empty"), ("   \n\t ", "empty"), ("x" * 100_000, "100,000 characters"),
])
def test_bad_questions_raise_query_error(fast_retriever: Retriever, question: str, message: str):
    with pytest.raises(QueryError, match=message):
        fast_retriever.search(question)


def test_an_unknown_source_id_is_named(fast_retriever: Retriever):
    with pytest.raises(Exception, match="unknown source id 'nope'"):
        fast_retriever.source("nope")


def test_highlighting_keeps_no_growing_state_and_embeds_only_the_question(fast_retriever: Retriever):
    # It once kept a cache of sentence vectors that lost what a question needed once full (KeyError on every
    # search after about 20,000 sentences). Sentences are embedded at build time now: a question embeds itself
    # (and, when it names what its first passages name, itself without those names: in the same call when it
    # capitalises them, after the passages when not) and nothing else, the same whatever the process answered before.
    encoded: list[int] = []

    class Counting:
        identity, dimension = fast_retriever.encoder.identity, fast_retriever.encoder.dimension

        def encode(self, texts, on_batch=None):
            encoded.append(len(texts))
            return fast_retriever.encoder.encode(texts)

    counting = Retriever(fast_retriever.index, Counting(), fast_retriever.settings)
    questions = ["How many North Korean refugees has NAUH resettled?", "What is NAUH?",
                 "How many refugees has NAUH resettled so far?", "What does Ji say about markets?"]
    for question in questions * 2:
        answer = counting.answer(question, k=5, gate=False)
        assert any(hit.highlights for hit in answer.hits)
    first, again = encoded[:len(encoded) // 2], encoded[len(encoded) // 2:]
    assert set(encoded) <= {1, 2} and first == again and len(questions) <= len(first) <= 2 * len(questions)


def test_a_paragraph_that_does_not_name_its_subject_is_found_by_the_paragraph_before_it(tmp_path):
    """"Inaugurated in April 2010, it..." says when the Trust began only beside the paragraph before it."""
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "harbour.txt").write_text("The Harbour Trust was founded.\n\n"
                                         "Inaugurated in April 2010, it rebuilt piers.\n", encoding="utf-8")
    (sources / "ferry.txt").write_text("A ferry inaugurated in June 2012 sails daily.\n", encoding="utf-8")
    retriever = open_retriever(RetrievalConfig(sources=sources, index=tmp_path / "index"), progress=False,
                               encoder=WordHashEncoder())
    # dense ranking alone: late interaction would re-read both passages word by word, which is not what is tested
    question, dense = "When was the Harbour Trust inaugurated?", SearchSettings(mode="dense", late_interaction=False)

    def first(settings: SearchSettings) -> str:
        hits = retriever.answer(question, k=3, settings=settings, gate=False).hits
        return next(h.text for h in hits if "inaugurated" in h.text.lower())

    assert first(dense).startswith("Inaugurated in April 2010")
    assert first(replace(dense, context_vectors=False)).startswith("A ferry")
