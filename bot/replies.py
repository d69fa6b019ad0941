"""What the bot says, as plain data: every reply is fixed wording plus verbatim, escaped source text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from retrieval import Answer, Hit, Passage, Source
from retrieval.search.coverage import label

from . import limits
from .markdown import bold, code, escape, without_bidi_controls

NOT_COVERED = "The sources do not cover this question, so there is nothing to quote."
NOT_SEARCHED = "Something went wrong; the question was not searched."
FAILED = "Something went wrong; please try again later."
QUESTION_ECHO_CHARS = 300
SOURCES_PER_PAGE = 10
PAGE_CHARS = 3500  # one page of a source's text; below the description limit to leave room for headings


@dataclass(frozen=True)
class Embed:
    title: str
    description: str
    footer: str = ""


@dataclass(frozen=True)
class Reply:
    """One message: content and embeds, already within Discord's limits."""

    content: str = ""
    embeds: list[Embed] = field(default_factory=list)
    votes: bool = False  # the end of an answer: readers can say whether it helped
    private: bool = False  # for the asker's eyes only


OWN_SOURCE = "Added by this server"  # a footer's note on a passage from the server's own library


def answer_replies(answer: Answer, own: frozenset[str] = frozenset()) -> list[Reply]:
    """The passages that answer a question, each under its citation, as many messages as Discord's embed
    limits need (votes under the last); or the fixed "not covered" line. A passage of one of the `own` sources
    (the server's own library) says so."""
    question = limits.fit(answer.query, QUESTION_ECHO_CHARS, escape)
    count = len(answer.hits)
    if not count:
        return [Reply(content=f"{NOT_COVERED}\nQuestion: {question}", votes=True)]
    size = limits.EMBEDS_PER_MESSAGE
    pages = []
    for start in range(0, count, size):
        content = (f"{count} passage{'s' if count > 1 else ''} from the sources, closest first, for: {question}"
                   if start == 0 else f"Passages {start + 1}-{min(start + size, count)} of {count}, continued.")
        pages.append(Reply(content=content, embeds=passage_embeds(answer.hits[start:start + size], own),
                           votes=start + size >= count))
    return pages


def passage_embeds(hits: list[Hit], own: frozenset[str] = frozenset()) -> list[Embed]:
    """One embed per passage under its citation (escaped: a title names a source as its document calls itself),
    the text cut so that all of them fit in one message."""
    titles = [limits.fit(hit.citation, limits.EMBED_TITLE, escape) for hit in hits]
    footers = [hit_footer(hit, hit.source.id in own) for hit in hits]
    overhead = sum(len(t) + len(f) for t, f in zip(titles, footers, strict=True))
    room = share_budget_for(hits, limits.EMBEDS_TOTAL - overhead)
    return [Embed(title, limits.fit(hit.text, min(limits.EMBED_DESCRIPTION, size), highlighter(hit)), footer)
            for hit, title, footer, size in zip(hits, titles, footers, room, strict=True)]


def share_budget_for(hits: list[Hit], budget: int) -> list[int]:
    return limits.share_budget([len(highlighter(hit)(hit.text)) for hit in hits], budget)


def highlighter(hit: Hit) -> Callable[[str], str]:
    """Escape a prefix of the hit's text and bold the highlighted sentences that fall in it."""
    return lambda prefix: bold(prefix, hit.highlights)


def hit_footer(hit: Hit, own: bool = False) -> str:
    """Plain text (Discord shows a footer's markdown as typed), so only the direction controls are dropped."""
    also = "".join(f" · Also in {place.citation}" for place in hit.also_in)
    where = f" · Full text: /source id:{hit.source.id} paragraph:{hit.passage.paragraph}"
    relevance = (f"{OWN_SOURCE} · " if own else "") + \
        f"{label(hit.relevance).capitalize()} (relevance {hit.relevance:.2f})"
    return without_bidi_controls(limits.fit(f"{relevance}{also}", limits.EMBED_FOOTER - len(where)) + where)


def unknown_source_reply(source_id: str) -> Reply:
    return Reply(content=f"Unknown source id {limits.fit(source_id, 100, escape)}. Use /sources to list them.")


def error_reply(message: str, private: bool = False) -> Reply:
    return Reply(content=limits.fit(message, limits.CONTENT, escape), private=private)


def sources_pages(sources: list[Source], counts: dict[str, int], own: frozenset[str] = frozenset()) -> list[Reply]:
    """The list of sources, SOURCES_PER_PAGE to a page; the `own` ones (the server's library) say so."""
    pages = []
    for start in range(0, len(sources), SOURCES_PER_PAGE):
        chunk = sources[start:start + SOURCES_PER_PAGE]
        lines = [source_line(s, counts[s.id], s.id in own) for s in chunk]
        page = len(pages) + 1
        total = (len(sources) + SOURCES_PER_PAGE - 1) // SOURCES_PER_PAGE
        embed = Embed(f"Sources ({len(sources)})", limits.fit("\n".join(lines), limits.EMBED_DESCRIPTION),
                      f"Page {page} of {total} · Read one with /source id:<id>")
        pages.append(Reply(embeds=[embed]))
    return pages


# what a source's file is, said as a reader would; a BEIR corpus has no file per source
FILE_FORMATS = {".pdf": "PDF", ".html": "web page", ".htm": "web page", ".docx": "Word", ".md": "Markdown",
                ".markdown": "Markdown", ".txt": "text"}


def source_line(source: Source, passages: int, own: bool = False) -> str:
    """One line of /sources: id, title, then author and date, publication, kind and file format where known, and
    whether the server added it."""
    who = ", ".join(x for x in (source.author, source.date) if x) or "author and date unknown"
    file_format = FILE_FORMATS.get(PurePath(source.file).suffix.lower()) if source.file else None
    facts = [who, *(x for x in (source.publication, source.kind, file_format) if x), f"{passages} passages",
             *([OWN_SOURCE.lower()] if own else [])]
    line = f"{code(source.id)} **{escape(source.title)}** ({escape('; '.join(facts))})"
    return limits.fit(line, 400)


def source_pages(source: Source, passages: list[Passage]) -> list[Reply]:
    """A source's metadata and its paragraphs, numbered as citations number them, paged to fit."""
    blocks = [paragraph_block(p) for p in passages]
    pages: list[list[str]] = [[]]
    for block in blocks:
        if pages[-1] and len("\n\n".join([*pages[-1], block])) > PAGE_CHARS:
            pages.append([])
        pages[-1].append(block)
    title = limits.fit(source.title, limits.EMBED_TITLE, escape)
    facts = source_facts(source)
    return [Reply(content=facts,
                  embeds=[Embed(title, "\n\n".join(page),
                                without_bidi_controls(f"{source.id} · page {n + 1} of {len(pages)}"))])
            for n, page in enumerate(pages)]


def paragraph_block(passage: Passage) -> str:
    label = f"**¶{passage.paragraph}**" + ("" if passage.answerable else f" _({passage.role})_")
    return f"{label} {limits.fit(passage.text, PAGE_CHARS - 40, escape)}"


def source_facts(source: Source) -> str:
    facts = [("Author", source.author), ("Date", source.date), ("Publication", source.publication),
             ("Kind", source.kind), ("URL", source.url)]
    lines = [f"**{name}:** {escape(value)}" for name, value in facts if value]
    return limits.fit("\n".join([f"Source {code(source.id)}", *lines]), limits.CONTENT)


def no_such_paragraph(source: Source, passages: list[Passage]) -> str:
    return f"{code(source.id)} has paragraphs 1 to {passages[-1].paragraph}."


def page_of_paragraph(pages: list[Reply], paragraph: int) -> int:
    """Which page shows ¶`paragraph` (0 when it is not found)."""
    marker = f"**¶{paragraph}**"
    return next((n for n, page in enumerate(pages) if any(marker in e.description for e in page.embeds)), 0)
