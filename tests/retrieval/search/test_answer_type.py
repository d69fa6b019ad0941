"""The kind of answer a question's wording asks for, what passages hold, and the gate reading the two (the regular
expressions of search/answer_type.py; the stage on the fast word-hash index)."""

from dataclasses import replace

import numpy as np
import pytest

from retrieval import Retriever
from retrieval.search.answer_type import asked_for, held, lacks_answer_type
from retrieval.search.coverage import Signals
from retrieval.settings import SearchSettings
from retrieval.store.lexical import Analyzer


@pytest.mark.parametrize(("question", "kind"), [
    ("How tall is Ji Seong-ho?", "measure"),
    ("How many children does Ji Seong-ho have?", "count"),
    ("How many years before 2017 did Ji Seong-ho escape?", "times"),
    ("What is Ji Seong-ho's date of birth?", "date"),
    ("In what month and year was NAUH inaugurated?", "date"),
    ("When did the Normans attack Dyrrachium?", "date"),
    ("How old is Robert Park?", "age"),
    ("What is Ji Seong-ho's phone number?", "phone"),
    ("What was his salary as chairman of NAUH?", "money"),
    ("How long did the tour last?", "length"),
    ("What is the address of NAUH's office in Seoul?", "address"),
    ("What is NAUH's email address?", "email"),
])
def test_the_wording_says_what_kind_of_answer_is_asked_for(question: str, kind: str):
    assert asked_for(question)[0] == kind


@pytest.mark.parametrize("question", [
    "Who is Robert Park?", "Why did Ji's view of Americans change?", "What is Ji Seong-ho's favourite food?",
    "Which group would pay the heaviest price if armed conflict erupted?", "Warner Center is located in which area?",
    "How should the UN address the abuses?",
])
def test_a_question_asking_for_no_such_kind_asks_for_none(question: str):
    assert asked_for(question) is None


@pytest.mark.parametrize(("text", "kinds"), [
    ("He is 1.80 m tall.", {"measure", "count"}),
    ("NAUH was inaugurated in April 2010.", {"date"}),
    ("Hervé served in the 1050s.", {"date"}),
    ("It has resettled about 215 refugees.", {"count"}),
    ("Call +82 2-555-0199.", {"phone", "count"}),
    ("A 23-year-old defector.", {"age", "duration", "count"}),
    ("They raised $300,000.", {"money", "count"}),
    ("The two-week tour.", {"duration", "count"}),
    ("NAUH, 12 Sejong-daero 5, Seoul.", {"address", "count"}),
    ("Write to info@nauh.or.kr.", {"email"}),
    ("He may go to Seoul.", set()),
])
def test_a_passage_holds_the_kinds_its_figures_are(text: str, kinds: set[str]):
    assert held(text) == kinds


def test_a_year_answers_when_but_not_how_many():
    passage = ["Ji Seong-ho escaped from North Korea in 2006 and founded NAUH in 2010."]
    assert lacks_answer_type("When did Ji escape from North Korea?", passage) == 0.0
    assert lacks_answer_type("How many refugees has NAUH resettled?", passage) == 1.0
    assert lacks_answer_type("Who founded NAUH?", passage) == 0.0  # asks for no kind: nothing lacks


def test_only_the_sentences_about_what_is_asked_count_when_words_are_given():
    passage = ["Ji Seong-ho is 1.80 m tall. His group resettled refugees in Seoul."]
    question = "How many refugees did his group resettle?"
    assert lacks_answer_type(question, passage) == 0.0  # "1.80" is some number in the passage
    assert lacks_answer_type(question, passage, Analyzer().terms_many) == 1.0  # but not in the sentence on refugees
    counted = ["Ji Seong-ho is 1.80 m tall. His group resettled 215 refugees in Seoul."]
    assert lacks_answer_type(question, counted, Analyzer().terms_many) == 0.0


def test_the_late_gate_doubts_a_first_passage_lacking_the_answer_asked_for():
    # a question like "How tall is Ji Seong-ho?" over a passage about him: near, named, with no height in it
    holds = Signals(np.array([0.5, 0.45, 0.4]), np.array([0.05, 0.04, 0.03]), np.array([0.3, 0.25, 0.2]),
                    np.array([1.0, 0.8, 0.6]), topical=0.1, late=np.array([0.55, 0.5, 0.45]))
    lacks = replace(holds, lacks_answer=1.0)
    assert lacks.gate_features()[-1] == 1.0 and len(lacks.gate_features()) == len(holds.gate_features())
    assert holds.covered() >= SearchSettings().min_relevance > lacks.covered()
    without_late = replace(lacks, late=None)  # the gate without late interaction never reads it
    assert without_late.covered() == replace(without_late, lacks_answer=0.0).covered()


def test_the_stage_types_the_answer_only_when_late_interaction_reads(fast_retriever: Retriever):
    reading = replace(fast_retriever.settings, late_interaction=True)
    tall = fast_retriever.answer("How tall is Ji Seong-ho?", gate=False, settings=reading)
    assert tall.signals.lacks_answer == 1.0  # the seeds give no one's height
    ago = fast_retriever.answer("How many years ago did Ji Seong-ho escape from North Korea?", gate=False,
                                settings=reading)
    assert "11 years ago" in ago.hits[0].text and ago.signals.lacks_answer == 0.0
    year = fast_retriever.answer("In what year did Ji Seong-ho escape from North Korea?", gate=False,
                                 settings=reading)
    assert "11 years ago" in year.hits[0].text and year.signals.lacks_answer == 1.0  # a year is asked for
    plain = fast_retriever.answer("How tall is Ji Seong-ho?", gate=False,
                                  settings=replace(fast_retriever.settings, late_interaction=False))
    assert plain.signals.lacks_answer == 0.0
