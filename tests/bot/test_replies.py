"""Replies as data: verbatim escaped passages under citations, always inside Discord's limits."""

import re

import pytest

from bot import limits, replies
from retrieval import Answer, Hit, Passage, Retriever, Source
from retrieval.records import Location
from retrieval.search.cite import citation
from retrieval.settings import SearchSettings


def make_answer(texts: list[str], query: str = "a question") -> Answer:
    source = Source(id="s", title="T" * 300, author="An Author", date="2020-01-01")
    hits = [Hit(rank, 0.5, passage, source, citation(source, passage))
            for rank, passage in enumerate((Passage("s", n, text) for n, text in enumerate(texts, start=1)), start=1)]
    return Answer(query, hits, 1.0, SearchSettings(), len(hits))


def highlighted(text: str, *sentences: str) -> Answer:
    """An answer with one passage, `text`, in which the search highlighted `sentences`."""
    source = Source(id="s", title="Harbour Rules")
    spans = tuple((text.index(s), text.index(s) + len(s)) for s in sentences)
    passage = Passage("s", 1, text)
    return Answer("a question", [Hit(1, 0.5, passage, source, citation(source, passage), highlights=spans)],
                  1.0, SearchSettings(), 1)


def as_discord_shows(markdown: str) -> tuple[str, list[str]]:
    """The text Discord shows for `markdown` and the runs it shows in bold; fails on any other live markdown."""
    shown: list[str] = []
    bold: list[str] = []
    opened = None
    i = 0
    while i < len(markdown):
        line_start = re.match(r"[ \t]*([#>\-+]|\d+\.\s)", markdown[i:]) if i == 0 or markdown[i - 1] == "\n" else None
        assert line_start is None, f"a heading, quote or list at {markdown[i:i + 20]!r}"
        if markdown[i] == "\\" and i + 1 < len(markdown):
            shown.append(markdown[i + 1])
            i += 2
        elif markdown.startswith("**", i):
            if opened is None:
                opened = len(shown)
            else:
                bold.append("".join(shown[opened:]))
                opened = None
            i += 2
        else:
            assert markdown[i] not in "*_~|`[<", f"live markdown at {markdown[max(0, i - 20):i + 20]!r}"
            shown.append(markdown[i])
            i += 1
    assert opened is None, "bold left open"
    return "".join(shown), bold


def total_embed_chars(reply: replies.Reply) -> int:
    return sum(len(e.title) + len(e.description) + len(e.footer) for e in reply.embeds)


def test_each_passage_is_quoted_under_its_citation(fast_retriever: Retriever):
    (reply,) = replies.answer_replies(fast_retriever.answer("How many North Korean refugees has NAUH resettled?"))
    first = reply.embeds[0]
    assert first.title.startswith("\\[Robert Park") and first.title.endswith("¶8\\]")  # escaped: "[" as written
    assert first.description.startswith("**To date, about 215 North Korean refugees")  # the answering sentence
    assert first.description.replace("**", "") == fast_retriever.search("How many North Korean refugees has NAUH "
                                                                    "resettled?")[0].text
    assert "/source id:park-hero paragraph:8" in first.footer


def test_no_hits_says_the_sources_do_not_cover_it_and_lists_nothing():
    (reply,) = replies.answer_replies(make_answer([], "Who won the 2018 World Cup?"))
    assert reply.content.startswith(replies.NOT_COVERED) and reply.embeds == []


def test_huge_passages_are_cut_with_an_ellipsis_to_fit_every_limit():
    (reply,) = replies.answer_replies(make_answer(["word " * 5000, "short passage.", "x" * 9000]))
    assert all(len(e.title) <= limits.EMBED_TITLE for e in reply.embeds)
    assert all(len(e.description) <= limits.EMBED_DESCRIPTION for e in reply.embeds)
    assert total_embed_chars(reply) <= limits.EMBEDS_TOTAL
    assert reply.embeds[0].description.endswith(limits.ELLIPSIS)
    assert reply.embeds[1].description == "short passage."  # short ones are never cut to pay for long ones


def test_mentions_and_markdown_in_text_are_escaped():
    question = "ping @everyone and <@&123456789012345678>"
    (reply,) = replies.answer_replies(make_answer(["Hey @everyone, see *this*"], question))
    assert "@everyone" not in reply.content.replace("@\u200beveryone", "")
    assert "<@&123456789012345678>" not in reply.content
    assert "\\*this\\*" in reply.embeds[0].description


def test_fit_keeps_short_text_and_cuts_long_text_on_a_word():
    assert limits.fit("short", 10) == "short"
    cut = limits.fit("alpha beta gamma delta", 12)
    assert cut == "alpha beta…" and len(cut) <= 12


def test_share_budget_gives_short_texts_their_length_and_splits_the_rest():
    assert limits.share_budget([100, 5000, 5000], 3000) == [100, 1450, 1450]


def test_source_pages_number_paragraphs_as_citations_do(fast_retriever: Retriever):
    source = fast_retriever.source("park-hero")
    pages = replies.source_pages(source, fast_retriever.passages_of("park-hero"))
    text = "\n".join(e.description for page in pages for e in page.embeds)
    assert "**¶8** To date, about 215" in text
    assert all(len(e.description) <= limits.EMBED_DESCRIPTION for page in pages for e in page.embeds)
    assert "Robert Park" in pages[0].content


def test_many_sources_are_paged():
    sources = [Source(id=f"doc-{n}", title=f"Title {n}") for n in range(23)]
    pages = replies.sources_pages(sources, {s.id: 1 for s in sources})
    assert len(pages) == 3 and "Page 3 of 3" in pages[-1].embeds[0].footer


@pytest.mark.parametrize(("text", "sentence"), [
    ("Tide tables are at [the office. They](http://example.com/tides) are free. Keepers read them daily.",
     "They](http://example.com/tides) are free."),
    ("Wind the `clock. Then` trim the wick. Sleep.", "Then` trim the wick."),
    ("The keeper ||left early. He|| came back at dawn. Nobody knew.", "He|| came back at dawn."),
], ids=["link", "code", "spoiler"])
def test_a_highlight_crossing_source_markdown_leaves_it_dead(text: str, sentence: str):
    (reply,) = replies.answer_replies(highlighted(text, sentence))
    assert as_discord_shows(reply.embeds[0].description) == (text, [sentence])


def test_headings_lists_quotes_and_mentions_in_a_source_stay_plain_text():
    text = "Rules for @everyone.\n# Keep the light\n- trim wicks\n> wind clocks\n1. log ships\n-# small print"
    (reply,) = replies.answer_replies(highlighted(text, "Keep the light", "wind clocks"))
    shown, bold = as_discord_shows(reply.embeds[0].description)
    assert shown.replace("\u200b", "") == text and bold == ["Keep the light", "wind clocks"]
    assert "@everyone" not in shown


def test_a_highlight_never_splits_a_link():
    text = "Charts: http://example.com/charts.v2/index. Ask the keeper."
    (reply,) = replies.answer_replies(highlighted(text, "Charts: http://example.com/charts."))
    assert reply.embeds[0].description == "**Charts: http://example.com/charts.v2/index**. Ask the keeper."


def test_a_hostile_title_is_escaped_in_the_citation_and_loses_its_direction_controls_everywhere():
    title = "**Official** [Click here](http://evil.example/nitro) @everyone ||x|| \u202eevil"
    source = Source(id="notice", title=title, author="\u2067Harbour Office\u2069")
    passage = Passage("notice", 1, "The lighthouse opens at dawn.")
    repeat = Location(source, Passage("notice", 4, passage.text), citation(source, Passage("notice", 4, "")))
    hit = Hit(1, 0.5, passage, source, citation(source, passage), also_in=(repeat,))
    (reply,) = replies.answer_replies(Answer("a question", [hit], 1.0, SearchSettings(), 1))
    (embed,) = reply.embeds
    shown, bold = as_discord_shows(embed.title)
    written = title.replace("\u202e", "")
    assert shown.replace("\u200b", "") == f'[Harbour Office, "{written}", ¶1]' and bold == []
    assert "Also in [Harbour Office" in embed.footer  # a footer is plain text: only the controls go
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", embed.title + embed.footer)
