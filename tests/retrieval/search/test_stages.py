"""The answer path is a list of stages over one record per question: a stage added to the list shapes every
answer, in its place, without touching the others."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from retrieval import Retriever
from retrieval.search import retriever as answer_path

from ...encoders import WordHashEncoder

QUESTIONS = ["Who founded NAUH?", "What is the Jangmadang?"]


def test_the_stages_run_in_the_named_order():
    names = [stage.__name__ for stage in answer_path._STAGES]
    assert names == ["_encoded", "_candidates", "_fused", "_cross_encoded", "_distinct", "_late_read", "_signals",
                     "_answer_typed", "_gate", "_cut", "_highlighted"]


def test_a_stage_put_after_distinct_reorders_what_is_shown(fast_retriever: Retriever, monkeypatch: pytest.MonkeyPatch):
    ranked = [[hit.text for hit in answer.hits] for answer in fast_retriever.answer_many(QUESTIONS, 3, gate=False)]

    def reversed_distinct(retriever: Retriever, question):
        return replace(question, distinct=question.distinct[:question.k][::-1])

    stages = list(answer_path._STAGES)
    stages.insert(stages.index(answer_path._signals), answer_path._each(reversed_distinct))
    monkeypatch.setattr(answer_path, "_STAGES", tuple(stages))
    reordered = fast_retriever.answer_many(QUESTIONS, 3, gate=False)
    assert [[hit.text for hit in answer.hits] for answer in reordered] == [texts[::-1] for texts in ranked]
    # the signals the gate reads follow the new order too
    assert all(answer.signals.fused[0] < answer.signals.fused[-1] for answer in reordered)


def test_each_question_keeps_its_own_k_through_the_stages(fast_retriever: Retriever):
    answers = fast_retriever.answer_many(QUESTIONS, [1, 4], gate=False)
    assert [len(answer.hits) for answer in answers] == [1, 4]
    assert [answer.k for answer in answers] == [1, 4]


class CountingEncoder(WordHashEncoder):
    """The stand-in model, keeping the texts of each call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts, on_batch=None):
        self.calls.append(list(texts))
        return super().encode(texts, on_batch)


@pytest.mark.parametrize(("question", "calls"), [
    # it capitalises the name its passages hold: the copy without it was guessed, and encoded with it
    ("How many refugees has NAUH resettled?", [["How many refugees has NAUH resettled?",
                                                "How many refugees has resettled?"]]),
    # written in lower case, the name is found only in the passages: the copy is asked for after them
    ("how many refugees has nauh resettled?", [["how many refugees has nauh resettled?"],
                                               ["how many refugees has resettled?"]]),
])
def test_the_question_without_names_is_encoded_with_it_when_guessed(fast_retriever: Retriever, question: str,
                                                                     calls: list[list[str]],
                                                                     monkeypatch: pytest.MonkeyPatch):
    counting = CountingEncoder()
    retriever = Retriever(fast_retriever.index, fast_retriever.encoder, fast_retriever.settings, questions=counting)
    answer = retriever.answer(question, gate=False)
    assert counting.calls == calls
    # and the signals are those of the copy asked for after the passages, as it was before the guess
    monkeypatch.setattr(answer_path, "_guessed", lambda query: "")
    asked_after = retriever.answer(question, gate=False)
    assert np.array_equal(answer.signals.unnamed, asked_after.signals.unnamed)
    assert answer.signals.topical == asked_after.signals.topical
    assert counting.calls[len(calls):] == [[question], [calls[-1][-1]]]
