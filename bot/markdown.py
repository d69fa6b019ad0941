"""Source text shown exactly as written: every character that Discord would read as markdown or a mention is
escaped on its own (and the controls that would turn the text around dropped), so the bold the bot adds can start
or end anywhere without bringing the source's own markdown (links, code, spoilers, headings, lists, quotes) to
life."""

from __future__ import annotations

import re
from collections.abc import Iterable

ZERO_WIDTH_SPACE = "\u200b"
BOLD = "**"
ANYWHERE = re.compile(r"[\\*_~|`\[\]<]")  # emphasis, spoilers, code, masked links, <@mentions> <t:times>
LINE_START = re.compile(r"^[ \t]*([#>\-+])", re.MULTILINE)  # headings, subtext, quotes, bullet lists
NUMBERED = re.compile(r"^[ \t]*\d+(\.)(?=\s)", re.MULTILINE)  # "1. " starts a numbered list
MENTION = re.compile(r"@(?=everyone|here|[!&]?[0-9]{17,20})")
# the links Discord makes clickable by itself; kept verbatim (a backslash inside would break them)
URL = re.compile(r"<[^: >]+:/[^ >]+>|(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s]")
# Bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069): one in a question or a source would
# reverse the bot's own words after it ("Trojan Source", CVE-2021-42574). Dropped; the marks LRM/RLM stay.
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def escaped_characters(text: str) -> list[str]:
    """How to write each character of `text` so that Discord shows it as is."""
    out = list(text)
    for match in ANYWHERE.finditer(text):
        out[match.start()] = "\\" + match.group()
    for pattern in (LINE_START, NUMBERED):
        for match in pattern.finditer(text):
            out[match.start(1)] = "\\" + match.group(1)
    for match in MENTION.finditer(text):
        out[match.start()] = "@" + ZERO_WIDTH_SPACE
    for match in URL.finditer(text):
        out[match.start():match.end()] = list(match.group())
    for match in BIDI_CONTROL.finditer(text):
        out[match.start()] = ""
    return out


def without_bidi_controls(text: str) -> str:
    """For text Discord shows without markdown (a thread's name): only the direction controls dropped."""
    return BIDI_CONTROL.sub("", text)


def code(text: str) -> str:
    """`text` (an id, which holds no backtick) in a code span, where Discord shows markdown and mentions as
    typed: only the direction controls dropped."""
    return f"`{without_bidi_controls(text)}`"


def escape(text: str) -> str:
    """Show text exactly as written: no markdown formatting and no mention syntax take effect."""
    return "".join(escaped_characters(text))


def bold(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` escaped, with the (start, end) character spans in bold; a span is widened rather than split a link."""
    out = escaped_characters(text)
    links = [match.span() for match in URL.finditer(text)]
    widened = []
    for start, end in spans:
        start, end = max(0, start), min(end, len(text))
        widened.append((next((a for a, b in links if a < start < b), start),
                        next((b for a, b in links if a < end < b), end)))
    for start, end in reversed(merged(widened)):
        out[start:end] = [BOLD, *out[start:end], BOLD]
    return "".join(out)


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans in order, empty ones dropped and touching ones joined: "****" would show as asterisks."""
    result: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if start >= end:
            continue
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(end, result[-1][1]))
        else:
            result.append((start, end))
    return result
