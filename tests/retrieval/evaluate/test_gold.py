"""The gold questions over the seeds: accuracy floors that a regression in retrieval would break."""


import pytest

from retrieval import Retriever
from retrieval.evaluate.evaluate import evaluate_gold, gold_table, load_gold

from ...conftest import GOLD, REPORTS

# Floors sit a little under what the current retrieval measures (see the README's figures).
TOP1_FLOOR, TOP3_FLOOR, ON_TOPIC_KEPT_FLOOR, OFF_TOPIC_DECLINED_FLOOR, MEAN_SHOWN_CEILING = 0.70, 0.83, 0.87, 1.0, 1.8


@pytest.fixture(scope="module")
def report(retriever: Retriever, pytestconfig: pytest.Config):
    result = evaluate_gold(retriever, load_gold(GOLD))
    pytestconfig.stash.setdefault(REPORTS, []).append(("seeds gold set", gold_table([result])))
    return result


def test_the_gold_set_is_large_and_mixed():
    questions = load_gold(GOLD)
    assert sum(q.on_topic for q in questions) >= 40
    assert sum(not q.on_topic for q in questions) >= 10
    assert sum(q.kind == "paraphrase" for q in questions) >= 15


@pytest.mark.slow
def test_every_expected_snippet_is_in_an_answerable_passage(retriever: Retriever):
    texts = [p.text for p in retriever.index.passages if p.answerable]
    for question in load_gold(GOLD):
        for snippet in question.expect:
            assert any(snippet in text for text in texts), snippet


@pytest.mark.slow
def test_top1_and_top3_accuracy_stay_above_their_floors(report):
    assert report.top1 >= TOP1_FLOOR
    assert report.top3 >= TOP3_FLOOR


@pytest.mark.slow
def test_the_gate_declines_off_topic_questions_and_keeps_on_topic_answers(report):
    assert report.off_topic_declined >= OFF_TOPIC_DECLINED_FLOOR
    assert report.on_topic_kept >= ON_TOPIC_KEPT_FLOOR


@pytest.mark.slow
def test_answers_show_few_passages(report):
    assert report.mean_shown <= MEAN_SHOWN_CEILING


def test_the_grown_set_asks_about_captions_and_who_wrote_what():
    kinds = [q.kind for q in load_gold(GOLD)]
    assert kinds.count("caption") >= 3 and kinds.count("attribution") >= 5
