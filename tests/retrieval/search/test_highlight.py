"""Which sentence of a passage is marked: the one its vector and the question's telling words rank first."""

from pathlib import Path

import numpy as np
import pytest

from retrieval import RetrievalConfig, Retriever, open_retriever
from retrieval.search.highlight import sentence_scores

ARIADNE = ("The Ariadne Telescope\n\nThe Ariadne telescope saw first light in March 2019 on a ridge above the "
           "Atacama desert, after eight years of construction. It was funded by a grant of 40 million euros from the "
           "Northern Science Foundation. Its mirror, 4.1 metres across, was cast in Jena.\n\nThe telescope studies "
           "the atmospheres of planets around nearby stars.\n")


def test_words_of_the_topic_do_not_pick_the_sentence():
    # the real model's cosines for "Who funded the Ariadne telescope?": the sentence that names the telescope is
    # closer than the one that answers, which says "It"
    cosines = np.array([0.572, 0.444, 0.330])
    said = [{"ariadn", "telescop", "saw", "first", "light"}, {"fund", "grant", "euro"}, {"mirror", "cast"}]
    scores = sentence_scores(cosines, said, {"who", "fund", "ariadn", "telescop"}, topic={"ariadn", "telescop"})
    assert int(scores.argmax()) == 1
    # without a topic, the telescope's name counts, and its sentence rightly wins when asked about its first light
    scores = sentence_scores(cosines[[1, 0, 2]], [said[1], said[0], said[2]], {"first", "light", "ariadn"}, set())
    assert int(scores.argmax()) == 1


def test_a_question_of_only_topic_words_is_decided_by_the_vectors():
    scores = sentence_scores(np.array([0.3, 0.5]), [{"ariadn"}, {"fund"}], {"ariadn"}, topic={"ariadn"})
    assert scores.tolist() == [0.3, 0.5]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "sentence"), [
    ("Who funded the Ariadne telescope?", "It was funded by a grant"),
    ("When did the Ariadne telescope see first light?", "The Ariadne telescope saw first light"),
    ("Where was the mirror of the Ariadne telescope cast?", "Its mirror, 4.1 metres across"),
])
def test_the_answering_sentence_is_marked(retriever: Retriever, tmp_path: Path, question: str, sentence: str):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ariadne.txt").write_text(ARIADNE, encoding="utf-8")
    ariadne = open_retriever(RetrievalConfig(sources=tmp_path / "docs", index=tmp_path / "index"), progress=False,
                             encoder=retriever.encoder, questions=retriever.questions)
    best = ariadne.search(question, k=1)[0]
    assert [best.text[a:b][:len(sentence)] for a, b in best.highlights] == [sentence]
