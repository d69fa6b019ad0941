"""MaxSim over token vectors (with the word-hash stand-in: one token vector per word), and what is encoded when."""

import numpy as np

from retrieval.search.late_interaction import LateInteraction, TokenEncoder, blend, maxsim

from ...encoders import WordHashEncoder


class CountingEncoder(WordHashEncoder):
    def __init__(self) -> None:
        self.encoded: list[str] = []

    def token_vectors(self, texts):
        self.encoded += texts
        return super().token_vectors(texts)


def test_each_question_token_counts_its_best_match_in_the_passage():
    question = np.eye(3, dtype=np.float32)[:2]  # two tokens, along the first two axes
    both = np.eye(3, dtype=np.float32)[:2]
    one = np.eye(3, dtype=np.float32)[[0, 2]]
    assert maxsim(question, [both, one, np.zeros((0, 3), dtype=np.float32)]).tolist() == [1.0, 0.5, 0.0]
    assert maxsim(np.zeros((0, 3), dtype=np.float32), [both]).tolist() == [0.0]


def test_a_passage_holding_every_word_asked_outscores_one_sharing_only_the_subject():
    late = LateInteraction(WordHashEncoder())
    assert isinstance(late.encoder, TokenEncoder)
    (question,) = late.questions(["When was NAUH founded?"])
    answers, mentions = late.scores(question, ["NAUH was founded in April 2010.", "NAUH helps refugees."])
    assert answers > mentions


def test_a_passage_is_encoded_once_while_remembered():
    encoder = CountingEncoder()
    late = LateInteraction(encoder, remembered=2)
    (question,) = late.questions(["a b"])
    first = late.scores(question, ["a x", "b y", "a x"])
    assert encoder.encoded == ["a b", "a x", "b y"]
    assert late.scores(question, ["b y"]).tolist() == [first[1]]
    assert encoder.encoded[-1] == "b y" and len(encoder.encoded) == 3
    late.scores(question, ["c z"])  # the least recently asked ("a x") is forgotten
    late.scores(question, ["a x"])
    assert encoder.encoded[-2:] == ["c z", "a x"]


def test_the_blend_reorders_only_the_passages_read_and_keeps_the_rest_behind_them():
    fused = np.array([0.9, 0.8, 0.7, 0.6], dtype=np.float32)
    order, scores, late = blend(fused, np.array([0.1, 0.5, 0.4], dtype=np.float32), weight=1.0)
    assert order.tolist() == [1, 2, 0, 3]
    assert np.allclose(scores, [1.3, 1.1, 1.0, 0.7]) and np.allclose(late, [0.5, 0.4, 0.1, 0.1])
    unmoved, same, _ = blend(fused, np.array([0.2, 0.5], dtype=np.float32), weight=0.0)
    assert unmoved.tolist() == [0, 1, 2, 3] and np.allclose(same, fused)
