"""The ranking metrics, checked against a hand-worked example."""

import math

import pytest

from retrieval.evaluate.metrics import mrr, ndcg, recall

# Ranked a, b, c, d; relevant: b (grade 1) and e (grade 2), which was not retrieved.
RANKED = ["a", "b", "c", "d"]
RELEVANT = {"b": 1, "e": 2}


def test_ndcg_by_hand():
    dcg = 1 / math.log2(3)  # b at rank 2
    idcg = 2 / math.log2(2) + 1 / math.log2(3)  # e then b
    assert ndcg(RANKED, RELEVANT, 10) == pytest.approx(dcg / idcg)
    assert ndcg(RANKED, RELEVANT, 10) == pytest.approx(0.2398, abs=1e-4)
    assert ndcg(RANKED, RELEVANT, 1) == 0.0


def test_recall_and_mrr_by_hand():
    assert recall(RANKED, RELEVANT, 1) == 0.0
    assert recall(RANKED, RELEVANT, 3) == 0.5
    assert mrr(RANKED, RELEVANT, 10) == 0.5
    assert mrr(RANKED, RELEVANT, 1) == 0.0


def test_a_perfect_ranking_scores_one():
    assert ndcg(["e", "b"], RELEVANT, 10) == pytest.approx(1.0)
    assert recall(["e", "b"], RELEVANT, 2) == 1.0
