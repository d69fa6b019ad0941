"""Replies as data: verbatim escaped passages under citations, always inside Discord's limits."""

from bot import limits, replies
from retrieval import Answer, Hit, Passage, Retriever, Source
from retrieval.cite import citation


def make_answer(texts: list[str], query: str = "a question") -> Answer:
    source = Source(id="s", title="T" * 300, author="An Author", date="2020-01-01")
    hits = [Hit(rank, 0.5, Passage("s", rank, text), source, citation(source, rank))
            for rank, text in enumerate(texts, start=1)]
    return Answer(query, hits, 1.0)


def total_embed_chars(reply: replies.Reply) -> int:
    return sum(len(e.title) + len(e.description) + len(e.footer) for e in reply.embeds)


def test_each_passage_is_quoted_under_its_citation(retriever: Retriever):
    reply = replies.answer_reply(retriever.answer("How many North Korean refugees has NAUH resettled?"))
    first = reply.embeds[0]
    assert first.title.startswith("[Robert Park") and first.title.endswith("¶8]")
    assert first.description.startswith("**To date, about 215 North Korean refugees")  # the answering sentence
    assert first.description.replace("**", "") == retriever.search("How many North Korean refugees has NAUH "
                                                                    "resettled?")[0].text
    assert "/source id:park-hero paragraph:8" in first.footer


def test_no_hits_says_the_sources_do_not_cover_it_and_lists_nothing():
    reply = replies.answer_reply(make_answer([], "Who won the 2018 World Cup?"))
    assert reply.content.startswith(replies.NOT_COVERED) and reply.embeds == []


def test_huge_passages_are_cut_with_an_ellipsis_to_fit_every_limit():
    reply = replies.answer_reply(make_answer(["word " * 5000, "short passage.", "x" * 9000]))
    assert all(len(e.title) <= limits.EMBED_TITLE for e in reply.embeds)
    assert all(len(e.description) <= limits.EMBED_DESCRIPTION for e in reply.embeds)
    assert total_embed_chars(reply) <= limits.EMBEDS_TOTAL
    assert reply.embeds[0].description.endswith(limits.ELLIPSIS)
    assert reply.embeds[1].description == "short passage."  # short ones are never cut to pay for long ones


def test_mentions_and_markdown_in_text_are_escaped():
    question = "ping @everyone and <@&123456789012345678>"
    reply = replies.answer_reply(make_answer(["Hey @everyone, see *this*"], question))
    assert "@everyone" not in reply.content.replace("@\u200beveryone", "")
    assert "<@&123456789012345678>" not in reply.content
    assert "\\*this\\*" in reply.embeds[0].description


def test_fit_keeps_short_text_and_cuts_long_text_on_a_word():
    assert limits.fit("short", 10) == "short"
    cut = limits.fit("alpha beta gamma delta", 12)
    assert cut == "alpha beta…" and len(cut) <= 12


def test_share_budget_gives_short_texts_their_length_and_splits_the_rest():
    assert limits.share_budget([100, 5000, 5000], 3000) == [100, 1450, 1450]


def test_source_pages_number_paragraphs_as_citations_do(retriever: Retriever):
    source = retriever.source("park-hero")
    pages = replies.source_pages(source, retriever.passages_of("park-hero"))
    text = "\n".join(e.description for page in pages for e in page.embeds)
    assert "**¶8** To date, about 215" in text
    assert all(len(e.description) <= limits.EMBED_DESCRIPTION for page in pages for e in page.embeds)
    assert "Robert Park" in pages[0].content


def test_many_sources_are_paged():
    sources = [Source(id=f"doc-{n}", title=f"Title {n}") for n in range(23)]
    pages = replies.sources_pages(sources, {s.id: 1 for s in sources})
    assert len(pages) == 3 and "Page 3 of 3" in pages[-1].embeds[0].footer
