"""Answer precision on documents nobody here wrote (SQuAD development articles) and on the seeds: the right
passage first, few passages shown, and silence when the documents cannot answer."""

import json

import pytest

from retrieval import RetrievalConfig, Retriever, open_retriever
from retrieval.evaluate.evaluate import GoldQuestion, evaluate_gold, gold_table, load_question_set

from ...conftest import REPORTS, SCIFACT, SQUAD, needs_data

SCIFACT_QUERIES = SCIFACT / "queries.jsonl"
# Floors sit a little under what the defaults measure (BENCHMARKS.md, "Answer precision").
TOP1, TOP3, ANSWERED, MEAN_SHOWN, SILENT, SHOWN, LIKELY_RIGHT = 0.85, 0.96, 0.98, 1.9, 0.97, 0.96, 0.95

pytestmark = [pytest.mark.slow, needs_data(SQUAD, SCIFACT_QUERIES)]


@pytest.fixture(scope="module")
def squad(retriever: Retriever, tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    config = RetrievalConfig(sources=SQUAD / "docs", index=tmp_path_factory.mktemp("squad") / "index")
    return open_retriever(config, progress=False, encoder=retriever.encoder, questions=retriever.questions)


@pytest.fixture(scope="module")
def report(squad: Retriever, pytestconfig: pytest.Config):
    claims = [json.loads(line)["text"] for line in SCIFACT_QUERIES.open(encoding="utf-8")]
    questions = load_question_set(SQUAD) + [GoldQuestion(claim, [], "off-topic") for claim in claims]
    result = evaluate_gold(squad, questions)
    pytestconfig.stash.setdefault(REPORTS, []).append(("SQuAD development articles", gold_table([result])))
    return result


def test_the_right_paragraph_comes_first(report):
    assert report.top1 >= TOP1 and report.top3 >= TOP3


def test_answerable_questions_are_answered_with_few_passages(report):
    assert report.on_topic_answered >= ANSWERED
    assert report.mean_shown <= MEAN_SHOWN and report.on_topic_shown >= SHOWN


def test_likely_answers_mean_it(report):
    assert report.likely_answers >= 100 and report.likely_right >= LIKELY_RIGHT


def test_questions_from_another_field_get_silence(report):
    assert report.off_topic_declined >= SILENT
