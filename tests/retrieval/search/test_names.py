"""The question without the names its first passages hold: what it asks about them."""

from retrieval.search.names import names_in, without_names

PASSAGES = ["Escaping from North Korea 11 years ago, Seong-ho Ji currently serves as the chairman of NAUH.",
            "Ji Seong-ho, president and founder of NAUH, told the Harvard International Review about the north."]


def test_words_the_passages_always_capitalise_are_names():
    names = names_in(PASSAGES)
    assert {"ji", "seong-ho", "nauh", "korea", "harvard"} <= names
    # written in lower case too, or a word no name is ("the", "about")
    assert not {"north", "president", "the", "about"} & names


def test_the_names_leave_the_question_and_what_it_asks_stays():
    names = names_in(PASSAGES)
    assert without_names("What is Ji Seong-ho's favourite food?", names) == "What is favourite food?"
    assert without_names("how tall is ji seong-ho", names) == "how tall is"
    assert without_names("When was NAUH founded?", names) == "When was founded?"
    assert without_names("Who painted the Mona Lisa?", names) == "Who painted the Mona Lisa?"


def test_a_word_capitalised_only_where_a_sentence_starts_is_a_name_only_when_the_question_capitalises_it():
    passages = ["Inaugurated in April 2010, NAUH is a human rights group. Robert Park wrote about it."]
    question = "In what month was NAUH inaugurated?"
    assert without_names(question, names_in(passages, question)) == "In what month was inaugurated?"
    assert without_names("How old is Robert Park?", names_in(passages, "How old is Robert Park?")) == "How old is"
