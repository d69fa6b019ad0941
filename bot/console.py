"""Console mode: type questions (or /sources, /source ID [N], /help) and see exactly the replies the bot would send."""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import replace

from retrieval import RetrievalError, Retriever
from retrieval.search.utf8 import check_utf8

from . import replies
from .markdown import escape
from .vote_buttons import VOTES

HELP = ("Type a question, or /sources, or /source ID [PARAGRAPH] (the page holding that paragraph, marked ▶), "
        "or /help. Ctrl-D or Ctrl-C quits.")
WIDTH = 100
COMMAND = re.compile(r"/[A-Za-z-]+")  # a line starting so is a command; any other line is a question
MARK = "▶ "  # before the paragraph /source ID N asked for


def render(reply: replies.Reply) -> str:
    """A reply as text: the message content, then each embed boxed with its title and footer."""
    parts = [reply.content] if reply.content else []
    for embed in reply.embeds:
        body = [f"│ {line}" for para in embed.description.split("\n")
                for line in (textwrap.wrap(para, WIDTH) or [""])]
        parts.append("\n".join([f"┌ {embed.title}", *body, *([f"└ {embed.footer}"] if embed.footer else ["└"])]))
    if reply.votes:
        parts.append("  ".join(f"[{emoji} {label}]" for _, emoji, label in VOTES.values()))
    return "\n".join(parts)


def reply_to(line: str, retriever: Retriever) -> list[replies.Reply]:
    """The reply (or pages of replies) the bot would send for one line typed as a message or a command."""
    words = line.split()
    try:
        check_utf8(line)  # a command's id is echoed in replies too, so check the whole line first
        if words and COMMAND.fullmatch(words[0]):
            return command_replies(words[0].lower(), words[1:], retriever)
        return replies.answer_replies(retriever.answer(line))
    except RetrievalError as error:
        return [replies.error_reply(f"Sorry, I can't search that: {error}")]


def command_replies(command: str, arguments: list[str], retriever: Retriever) -> list[replies.Reply]:
    """A console command: /sources, /source ID [N] and /help, as the bot's commands answer them."""
    if command == "/sources" and not arguments:
        counts = {sid: retriever.answerable_count(sid) for sid in retriever.sources}
        return replies.sources_pages(list(retriever.sources.values()), counts)
    if command == "/source":
        given = options(arguments, ("id", "paragraph"))
        if given is not None and "id" in given:
            return source_replies(retriever, given["id"], given.get("paragraph"))
        return [replies.Reply(content="Usage: /source ID [PARAGRAPH], for example /source park-hero 8 (or, as "
                                      "Discord writes it, /source id:park-hero paragraph:8); /sources lists the ids.")]
    known = command in ("/sources", "/help")
    return [replies.Reply(content=HELP if command == "/help" else
                          f"{'Usage' if known else 'Unknown command'}: {escape(command)}. {HELP}")]


def options(arguments: list[str], names: tuple[str, ...]) -> dict[str, str] | None:
    """A command's options, typed in order (`park-hero 8`) or named as Discord shows them (`id:park-hero
    paragraph:8`, as the bot's own footers print them); None when they do not fit `names`."""
    given: dict[str, str] = {}
    unnamed = iter(names)
    for argument in arguments:
        name, colon, value = argument.partition(":")
        if not (colon and name in names):
            name, value = next((n for n in unnamed if n not in given), None), argument
        if name is None or name in given or not value:
            return None
        given[name] = value
    return given


def source_replies(retriever: Retriever, source_id: str, paragraph: str | None) -> list[replies.Reply]:
    """/source ID [N]: the source's pages; with N, the page holding ¶N (where Discord opens), ¶N marked."""
    if source_id not in retriever.sources:
        return [replies.unknown_source_reply(source_id)]
    source = retriever.source(source_id)
    passages = retriever.passages_of(source.id)
    pages = replies.source_pages(source, passages)
    if paragraph is None:
        return pages
    if not paragraph.isdecimal():
        return [replies.Reply(content=f"The paragraph must be a number, not {escape(paragraph)}: "
                                      f"{replies.no_such_paragraph(source, passages)}")]
    if not 1 <= int(paragraph) <= passages[-1].paragraph:
        return [replies.Reply(content=replies.no_such_paragraph(source, passages))]
    page = pages[replies.page_of_paragraph(pages, int(paragraph))]
    marker = f"**¶{int(paragraph)}**"
    embeds = [replace(embed, description=embed.description.replace(marker, MARK + marker, 1))
              for embed in page.embeds]
    return [replace(page, embeds=embeds)]


def run_console(retriever: Retriever, lines: Iterable[str] | None = None) -> None:
    interactive = lines is None and sys.stdin.isatty()
    if lines is None:
        # bytes that are not UTF-8 become surrogates that reply_to refuses, instead of ending the session
        sys.stdin.reconfigure(errors="surrogateescape")
    if interactive:
        print(HELP)
    for line in lines if lines is not None else read_lines(interactive):
        if not line.strip():
            continue
        pages = reply_to(line.strip(), retriever)
        print("\n\n".join(render(page) for page in pages), end="\n\n", flush=True)


def read_lines(interactive: bool) -> Iterable[str]:
    while True:
        try:
            yield input("> ") if interactive else next(sys.stdin)
        except (EOFError, StopIteration):
            return
