"""MaxSim over token vectors (with the word-hash stand-in: one token vector per word), and what is encoded when."""

from dataclasses import replace

import numpy as np
import pytest

from retrieval import Retriever
from retrieval.encode.embed import TokenEncoder
from retrieval.search.late_interaction import LateInteraction, blend, maxsim
from retrieval.store.tokens import sentence_of_tokens

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
    _, (question,) = late.encoder.encode_with_tokens(["When was NAUH founded?"])
    answers, mentions = maxsim(question, late.passages(["NAUH was founded in April 2010.", "NAUH helps refugees."]))
    assert answers > mentions


def test_a_passage_is_encoded_once_while_remembered():
    encoder = CountingEncoder()
    late = LateInteraction(encoder, remembered=2)
    _, (question,) = encoder.encode_with_tokens(["a b"])
    first = maxsim(question, late.passages(["a x", "b y", "a x"]))
    assert encoder.encoded == ["a b", "a x", "b y"]
    assert maxsim(question, late.passages(["b y"])).tolist() == [first[1]]
    assert encoder.encoded[-1] == "b y" and len(encoder.encoded) == 3
    late.passages(["c z"])  # the least recently asked ("a x") is forgotten
    late.passages(["a x"])
    assert encoder.encoded[-2:] == ["c z", "a x"]


def test_read_sentence_by_sentence_a_passage_scores_its_best_sentence_with_its_title():
    question = np.eye(3, dtype=np.float32)  # three tokens, along the three axes
    passage = np.eye(3, dtype=np.float32)[[0, 1, 2]]  # a title token, then one token in each of two sentences
    sentences = np.array([-1, 0, 1])
    assert maxsim(question, [passage]).tolist() == [1.0]  # read whole, every question token finds its match
    # no one sentence holds both its other matches: each sentence has the title's and its own
    assert np.isclose(maxsim(question, [passage], sentences=[sentences])[0], 2 / 3)
    assert maxsim(question, [passage], sentences=[None]).tolist() == [1.0]  # no sentences: read whole


def test_each_token_belongs_to_the_sentence_it_starts_in_and_a_title_to_none():
    text = "NAUH. Founded in 2010. It helps."  # "NAUH." the title, led before the passage's own text
    offsets = np.array([(0, 4), (6, 13), (14, 16), (17, 21), (23, 25), (26, 32)])
    starts = np.array([0, 17])  # the passage's sentences, in its own text (which the text read holds from 6 on)
    assert text[6:].startswith("Founded") and sentence_of_tokens(offsets, starts, shift=6).tolist() == [
        -1, 0, 0, 0, 1, 1]
    assert sentence_of_tokens(offsets, np.zeros(0, dtype=np.int64)).tolist() == [0] * 6


def test_a_weighted_question_token_counts_for_more():
    question = np.eye(3, dtype=np.float32)[:2]
    only_first = np.eye(3, dtype=np.float32)[[0]]
    assert maxsim(question, [only_first], np.array([3.0, 1.0])).tolist() == [0.75]
    assert maxsim(question, [only_first], np.zeros(2)).tolist() == [0.5]  # nothing weighs: the plain mean


def test_the_blend_reads_each_score_as_a_z_score_among_the_passages():
    fused = np.array([0.95, 0.94, 0.60], dtype=np.float32)  # the first two all but tied on the fused score
    late = np.array([0.60, 0.70, 0.65], dtype=np.float32)
    assert blend(fused, late, (1.0, 1.0)).tolist() == [1, 0, 2]
    assert blend(fused, late, (1.0, 0.0)).tolist() == [0, 1, 2]
    assert blend(fused, late, (0.0, 1.0)).tolist() == [1, 2, 0]
    assert blend(fused[:1], late[:1], (1.0, 1.0)).tolist() == [0]


def test_the_stage_reorders_the_first_passages_and_the_gate_reads_their_maxsim(fast_retriever: Retriever):
    question = "What character does Illyong Ju play in the NAUH performances in the U.S.?"
    plain = fast_retriever.answer(question, k=5, gate=False,
                                  settings=replace(fast_retriever.settings, late_interaction=False))
    assert plain.signals.late is None
    reading = replace(fast_retriever.settings, late_interaction=True)
    by_maxsim = fast_retriever.over(fast_retriever.index)
    by_maxsim.late_blend = (0.0, 1.0)
    read = by_maxsim.answer(question, k=5, gate=False, settings=reading)
    late = read.signals.late.tolist()
    assert late == sorted(late, reverse=True) and len(set(late)) > 1
    assert sorted(hit.text for hit in read.hits) == sorted(hit.text for hit in plain.hits)  # the same five, moved
    assert read.hits[0].text != plain.hits[0].text
    by_fused = fast_retriever.over(fast_retriever.index)
    by_fused.late_blend = (1.0, 0.0)
    assert [hit.text for hit in by_fused.answer(question, k=5, gate=False, settings=reading).hits] == [
        hit.text for hit in plain.hits]
    # the late gate reads MaxSim and whether the answer asked for is lacking (search/answer_type.py) besides
    assert len(read.signals.gate_features()) == len(plain.signals.gate_features()) + 2


@pytest.mark.slow
def test_one_model_run_gives_a_question_its_vector_and_a_word_for_each_token_vector(retriever: Retriever):
    encoder, question = retriever.encoder, "When was NAUH inaugurated?"
    vectors, (tokens,) = encoder.encode_with_tokens([question])
    assert np.allclose(vectors, encoder.encode([question]), atol=1e-3)
    assert np.allclose(tokens, encoder.token_vectors([question])[0], atol=1e-3)
    words = encoder.token_words(question)
    assert len(words) == len(tokens) and words[0] == "When" and words[-1] == "?" and "inaugurated" in words


def test_the_passages_whose_token_vectors_the_index_kept_are_not_read_again(fast_retriever: Retriever):
    encoder = CountingEncoder()
    reading = Retriever(fast_retriever.index, encoder, replace(fast_retriever.settings, late_interaction=True))
    answer = reading.answer("When was NAUH founded?", k=5, gate=False)
    assert answer.signals.late is not None and len(set(answer.signals.late.tolist())) > 1
    assert encoder.encoded == ["When was NAUH founded?", "When was founded?"]  # the question's own, one model run
