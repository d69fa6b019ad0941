"""The two calibrated models (the gate and a passage's relevance), fitted by Newton's method, and how they cut an
answer (on the fast word-hash index: the mechanics, not the models' quality)."""

from dataclasses import replace

import numpy as np

from retrieval import Retriever
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


def test_the_gate_and_the_cut_decide_what_is_shown(fast_retriever: Retriever):
    question = "How many North Korean refugees has NAUH resettled?"
    ranked = fast_retriever.answer(question, k=5, gate=False)
    assert len(ranked.hits) == 5 and not ranked.gated and ranked.signals is not None
    closed = fast_retriever.answer(question, k=5, settings=replace(fast_retriever.settings, min_relevance=1.0))
    assert closed.hits == [] and not closed.covered and closed.relevance == ranked.relevance
    wide = replace(fast_retriever.settings, min_relevance=0.0, min_score=-1.0)
    everything = fast_retriever.answer(question, k=5, settings=replace(wide, clear=1.0, related=0.0))
    first_only = fast_retriever.answer(question, k=5, settings=replace(wide, clear=0.0))
    none_related = fast_retriever.answer(question, k=5, settings=replace(wide, clear=1.0, related=1.0))
    assert len(everything.hits) == 5 and len(first_only.hits) == 1 and len(none_related.hits) == 1
    assert first_only.hits[0].text == ranked.hits[0].text
    assert [h.relevance for h in everything.hits] == [h.relevance for h in ranked.hits]
