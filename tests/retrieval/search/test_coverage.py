"""The two calibrated models (the gate and a passage's relevance), fitted by Newton's method, and how they cut an
answer (on the fast word-hash index: the mechanics, not the models' quality)."""

from dataclasses import replace

import numpy as np
import pytest

from retrieval import Answer, Retriever
from retrieval.search.coverage import LIKELY, Signals, fit_choice, fit_logistic, label, logistic


def test_fitting_recovers_the_coefficients_that_made_the_labels():
    rng = np.random.default_rng(7)
    features = rng.uniform(0, 1, size=(20_000, 2))
    truth = (-3.0, 4.0, 2.0)
    labels = (rng.uniform(size=len(features)) < logistic(features, truth)).astype(float)
    assert np.allclose(fit_logistic(features, labels), truth, atol=0.25)


def test_weights_count_an_example_as_that_many():
    rng = np.random.default_rng(3)
    features = rng.uniform(0, 1, size=(4_000, 1))
    labels = (rng.uniform(size=len(features)) < logistic(features, (-1.0, 3.0))).astype(float)
    doubled = fit_logistic(np.vstack([features, features]), np.concatenate([labels, labels]))
    weighted = fit_logistic(features, labels, np.full(len(features), 2.0))
    assert np.allclose(doubled, weighted, atol=1e-6)


def test_choice_fitting_recovers_the_blend_that_picked_the_right_candidates():
    rng = np.random.default_rng(11)
    truth = np.array([3.0, 1.5])  # the second feature weighs half the first
    groups = []
    for _ in range(4_000):
        features = rng.uniform(0, 1, size=(5, 2))
        chances = np.exp(features @ truth)
        groups.append((features, int(rng.choice(5, p=chances / chances.sum()))))
    fitted = np.array(fit_choice(groups))
    assert np.allclose(fitted, truth, atol=0.3) and abs(fitted[1] / fitted[0] - 0.5) < 0.1


def test_relevance_reads_as_words():
    assert label(LIKELY) == "likely answers" and label(LIKELY - 0.01) == "may be related"


def signals(dense, unnamed, fused, share=None):
    dense = np.array(dense)
    return Signals(dense, np.zeros_like(dense) if share is None else np.array(share), np.array(unnamed),
                   np.array(fused))


def test_the_gate_believes_a_passage_about_what_is_asked_not_one_that_only_names_who_is_asked_about():
    about = signals([0.62, 0.4, 0.3], [0.55, 0.35, 0.2], [1.0, 0.5, 0.3])
    only_the_name = signals([0.62, 0.4, 0.3], [0.12, 0.1, 0.08], [1.0, 0.5, 0.3])
    assert about.covered() > 0.5 > only_the_name.covered()
    assert signals([], [], []).covered() == 0.0


def test_a_passage_far_behind_the_first_is_less_likely_to_answer():
    relevance = signals([0.6, 0.6, 0.6], [0.6, 0.6, 0.6], [1.0, 0.7, 0.4]).answers()
    assert relevance[0] > relevance[1] > relevance[2]


QUESTION = "How many North Korean refugees has NAUH resettled?"
OPEN_GATE = {"min_relevance": 0.0, "min_score": -1.0}  # every answer covered, so only the cut decides


@pytest.fixture
def ranked(fast_retriever: Retriever) -> Answer:
    return fast_retriever.answer(QUESTION, k=5, gate=False)


def test_without_the_gate_every_passage_asked_for_is_ranked_with_its_signals(ranked: Answer):
    assert len(ranked.hits) == 5 and not ranked.gated and ranked.signals is not None


def test_a_gate_that_opens_for_nothing_shows_nothing_yet_says_how_likely(fast_retriever: Retriever, ranked: Answer):
    closed = fast_retriever.answer(QUESTION, k=5, settings=replace(fast_retriever.settings, min_relevance=1.0))
    assert closed.hits == [] and not closed.covered and closed.relevance == ranked.relevance


@pytest.mark.parametrize(("cut", "shown"), [({"clear": 1.0, "related": 0.0}, 5), ({"clear": 0.0}, 1),
                                            ({"clear": 1.0, "related": 1.0}, 1)],
                         ids=["every passage related", "the first clearly right", "none related"])
def test_the_cut_shows_the_first_passage_and_those_related(fast_retriever: Retriever, ranked: Answer, cut: dict,
                                                          shown: int):
    answer = fast_retriever.answer(QUESTION, k=5, settings=replace(fast_retriever.settings, **OPEN_GATE, **cut))
    assert [h.text for h in answer.hits] == [h.text for h in ranked.hits[:shown]]
    assert [h.relevance for h in answer.hits] == [h.relevance for h in ranked.hits[:shown]]
