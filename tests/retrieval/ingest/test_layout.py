"""Page chrome never becomes a passage; headings and bylines are kept as context, not answers; captions answer."""

import pytest

from retrieval import Passage, Retriever, Role, load_corpus
from retrieval.ingest.layout import is_chrome, layout

from ...conftest import SEEDS


def test_chrome_lines_are_dropped_from_every_seed():
    corpus = load_corpus(SEEDS)
    texts = "\n".join(p.text for p in corpus.passages)
    for chrome in ("top of page", "bottom of page", "Back To Top", "Back to all interviews", "Korea Herald Youtube"):
        assert chrome not in texts


def test_paragraphs_are_numbered_as_the_document_reads_without_chrome():
    corpus = load_corpus(SEEDS)
    park = [p for p in corpus.passages if p.source_id == "park-hero"]
    assert park[0].role is Role.HEADING and park[0].paragraph == 1
    assert park[7].paragraph == 8 and park[7].text.startswith("To date, about 215 North Korean refugees")


def test_title_and_byline_are_not_answers_but_a_caption_is():
    blocks = layout(
        "top of page\n\nA Headline About Things\n\nBy Jane Doe  01/02/2020\n\n"
        "The first paragraph says something.\n\nA crowd gathers. (Photo Credit: Jane Doe)\n\nbottom of page"
    )
    assert [b.role for b in blocks] == [Role.HEADING, Role.BYLINE, Role.BODY, Role.CAPTION]
    answers = [Passage("s", n, b.text, b.role).answerable for n, b in enumerate(blocks, start=1)]
    assert answers == [False, False, True, True]


@pytest.mark.slow
def test_a_caption_is_found_and_cited_as_a_photo_caption(retriever: Retriever):
    best = retriever.search("How many defectors performed in the play in Washington D.C.?")[0]
    assert best.passage.role is Role.CAPTION and best.text.startswith("Eight North Korean defectors")
    assert best.citation.endswith("¶11, photo caption]")
    assert best.to_dict()["role"] == "caption"


def test_a_footer_link_line_is_chrome_but_a_sentence_about_youtube_is_not():
    assert is_chrome("Korea Herald Youtube")
    assert not is_chrome("He posted the speech on YouTube.")


def test_markdown_headings_are_headings_and_text_stays_verbatim():
    text = "# Title\n\nSome *emphasis* stays\nacross two lines.\n\n## Part two\n\nMore."
    blocks = layout(text, markdown=True)
    assert [b.role for b in blocks] == [Role.HEADING, Role.BODY, Role.HEADING, Role.BODY]
    assert blocks[1].text == "Some *emphasis* stays\nacross two lines."
