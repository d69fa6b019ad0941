"""The per-stage benchmark times every stage of the answer path, for every question asked."""

from retrieval import Retriever
from retrieval.benchmarks.stages import CHECKS, WARM_UP, measure
from retrieval.search.retriever import _STAGES


def test_every_stage_is_timed_once_a_question_and_the_total_is_their_sum(fast_retriever: Retriever):
    questions = ["Who founded NAUH?", "When was NAUH founded?", "What does NAUH do?", "Where is NAUH based?"]
    times = measure(fast_retriever, questions)
    assert list(times) == [CHECKS, *(stage.__name__ for stage in _STAGES), "total"]
    assert all(len(values) == len(questions) for values in times.values()) and len(questions) > WARM_UP
    parts = [sum(times[name][i] for name in times if name != "total") for i in range(len(questions))]
    assert all(abs(whole - part) < 1e-6 for whole, part in zip(times["total"], parts, strict=True))
    assert min(times["_encoded"]) > 0
