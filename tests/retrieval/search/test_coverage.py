"""The "covered?" gate: a logistic model fitted by Newton's method, and how its decision and the margin cut an
answer (on the fast word-hash index: the mechanics, not the model's quality)."""

from dataclasses import replace

import numpy as np

from retrieval import Retriever
from retrieval.search.coverage import LIKELY, fit_logistic, label, probability


def test_fitting_recovers_the_coefficients_that_made_the_labels():
    rng = np.random.default_rng(7)
    features = rng.uniform(0, 1, size=(20_000, 2))
    truth = (-3.0, 4.0, 2.0)
    labels = (rng.uniform(size=len(features)) < probability(features[:, 0], features[:, 1], truth)).astype(float)
    fitted = fit_logistic(features, labels)
    assert np.allclose(fitted, truth, atol=0.25)


def test_relevance_reads_as_words():
    assert label(LIKELY) == "likely answers" and label(LIKELY - 0.01) == "may be related"
    assert probability(np.array([0.9]), np.array([0.5]))[0] > LIKELY > probability(np.array([0.1]), np.array([0.0]))[0]


def test_the_gate_and_the_margin_cut_what_is_shown(fast_retriever: Retriever):
    question = "How many North Korean refugees has NAUH resettled?"
    ranked = fast_retriever.answer(question, k=5, gate=False)
    assert len(ranked.hits) == 5 and not ranked.gated
    closed = fast_retriever.answer(question, k=5, settings=replace(fast_retriever.settings, min_relevance=1.0))
    assert closed.hits == [] and not closed.covered and closed.relevance == ranked.relevance
    wide = replace(fast_retriever.settings, min_relevance=0.0, min_score=-1.0)
    everything = fast_retriever.answer(question, k=5, settings=replace(wide, margin=1.0))
    first_only = fast_retriever.answer(question, k=5, settings=replace(wide, margin=0.0))
    assert len(everything.hits) == 5 and len(first_only.hits) == 1
    assert first_only.hits[0].text == ranked.hits[0].text
