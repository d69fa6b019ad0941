"""A question in a language the model cannot read is refused with a message saying so, never searched."""

import json
import tomllib
from pathlib import Path

import pytest

from retrieval import QueryError, Retriever
from retrieval.search.language import LanguageCheck, Unreadable

SEEDS = Path(__file__).parents[3] / "seeds"


@pytest.mark.parametrize(("question", "language"), [
    ("지성호는 누구인가?", "Korean"), ("池成浩是谁?", "Chinese"), ("Кто такой Ji Seong-ho?", "Russian"),
    ("Wie viele Flüchtlinge hat NAUH umgesiedelt?", "German"), ("¿Cuántos refugiados ha reasentado NAUH?", "Spanish"),
    ("Quand NAUH a-t-elle été fondée ?", "French")])
def test_a_question_in_another_language_is_named_and_refused(question: str, language: str):
    with pytest.raises(Unreadable, match=f"only search these sources in English .this looks like {language}"):
        LanguageCheck().check(question)


def test_every_english_development_question_is_read():
    questions = [q["q"] for name in ("gold.toml", "unanswered.toml", "chatter.toml")
                 for q in tomllib.loads((SEEDS / name).read_text(encoding="utf-8"))["question"]]
    check = LanguageCheck()
    refused = []
    for question in questions:
        try:
            check.check(question)
        except Unreadable:
            refused.append(question)
    assert refused == ["asdkjh qwpoeiru zxmcnv"]  # gibberish: told it is not English, which it is not


def test_too_short_to_tell_is_searched():
    for question in ("hi", "ok", "NAUH?", "Ji Seong-ho", "🍕🚀"):
        LanguageCheck().check(question)


def test_the_retriever_refuses_before_searching(fast_retriever: Retriever):
    with pytest.raises(QueryError, match="English"):
        fast_retriever.answer("지성호는 누구인가?")
    with pytest.raises(QueryError, match="question '지성호는"):
        fast_retriever.answer_many(["Who founded NAUH?", "지성호는 누구인가?"])
    assert json.dumps(fast_retriever.answer("Who founded NAUH?").to_dict())
