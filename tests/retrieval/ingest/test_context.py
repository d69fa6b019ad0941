"""Each passage read in its context: the end of the paragraph before it in its document, then the passage whole."""

from retrieval.ingest.context import CONTEXT_SHARE, CONTEXT_WORDS, in_context
from retrieval.records import Passage


def passages(*texts: str, source: str = "harbour") -> list[Passage]:
    return [Passage(source, number, text) for number, text in enumerate(texts, 1)]


def test_a_passage_is_read_after_the_paragraph_before_it():
    texts = ["The Harbour Trust was founded by fishermen.", "Inaugurated in April 2010, it rebuilt three piers."]
    assert in_context(passages(*texts), texts) == [
        texts[0], "The Harbour Trust was founded by fishermen. Inaugurated in April 2010, it rebuilt three piers."]


def test_the_first_paragraph_of_each_document_is_its_own_context():
    found = passages("Harbour news.") + passages("Ferry news.", "More ferry news.", source="ferry")
    texts = [p.text for p in found]
    assert in_context(found, texts) == ["Harbour news.", "Ferry news.", "Ferry news. More ferry news."]


def test_a_long_paragraph_before_gives_only_its_last_words_and_the_passage_is_never_cut():
    before = " ".join(f"w{n}" for n in range(500))
    passage = " ".join(f"p{n}" for n in range(100))
    (_, context) = in_context(passages(before, passage), [before, passage])
    assert context.endswith(passage) and len(context.split()) == CONTEXT_WORDS
    assert context.startswith(f"w{500 - (CONTEXT_WORDS - 100)} ")
    long = " ".join(["pier"] * (CONTEXT_WORDS + 5))
    assert in_context(passages(before, long), [before, long])[1] == long


def test_a_short_passage_borrows_at_most_twice_its_own_words():
    """Read after all of a long paragraph, a one-line one would be matched for what the long one says."""
    before = "The Trust was funded by a grant of forty million euros from the Northern Science Foundation."
    passage = "It studies planets."
    (_, context) = in_context(passages(before, passage), [before, passage])
    assert context == f"euros from the Northern Science Foundation. {passage}" and CONTEXT_SHARE == 2


def test_the_indexed_text_is_what_is_read_in_context():
    """A document's only body passage is indexed led by its title (store/build.py); that text is kept."""
    found = passages("An abstract.")
    assert in_context(found, ["A Title An abstract."]) == ["A Title An abstract."]
