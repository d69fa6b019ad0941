"""Discord's size limits, and cutting text to fit them with an ellipsis instead of failing."""

from __future__ import annotations

from collections.abc import Callable

CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FOOTER = 2048
EMBEDS_TOTAL = 6000  # characters across every embed of one message
EMBEDS_PER_MESSAGE = 10
FIELD_VALUE = 1024
CHOICES = 25
CHOICE_TEXT = 100
MAX_COUNT = 25  # passages one /ask may ask for: more is never useful to a reader of a channel
ELLIPSIS = "…"


def fit(text: str, limit: int, render: Callable[[str], str] = str) -> str:
    """`render(text)` if it fits in `limit`, else the longest word-boundary prefix that does, plus an ellipsis."""
    rendered = render(text)
    if len(rendered) <= limit:
        return rendered
    low, high = 0, len(text)
    while low < high:  # the longest prefix whose rendering, with the ellipsis, fits
        middle = (low + high + 1) // 2
        if len(render(text[:middle])) + len(ELLIPSIS) <= limit:
            low = middle
        else:
            high = middle - 1
    prefix = text[:low]
    cut = prefix.rfind(" ")
    if cut > low * 0.8:  # prefer a word boundary when one is near
        prefix = prefix[:cut]
    return render(prefix.rstrip()) + ELLIPSIS


def share_budget(lengths: list[int], budget: int) -> list[int]:
    """Split `budget` characters among texts of `lengths`: short ones keep all, long ones share the rest evenly."""
    allowance = [0] * len(lengths)
    remaining, pending = budget, sorted(range(len(lengths)), key=lambda i: lengths[i])
    while pending:
        fair = remaining // len(pending)
        index = pending.pop(0)
        allowance[index] = min(lengths[index], fair)
        remaining -= allowance[index]
    return allowance
