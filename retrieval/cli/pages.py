"""`show ID --page N`: the passages of one page of a paged source (a PDF)."""

from __future__ import annotations

from ..errors import RetrievalError
from ..records import Passage


def on_page(source_id: str, passages: list[Passage], page: int) -> list[Passage]:
    """The passages that start on `page`; RetrievalError when the source has no pages or not that one. A page
    whose only paragraph began on the page before has none of its own: that paragraph is shown."""
    pages = [p.page for p in passages if p.page is not None]
    if not pages:
        raise RetrievalError(f"{source_id} has no pages (only PDFs do); use --paragraph N instead")
    if not 1 <= page <= max(pages):
        raise RetrievalError(f"{source_id} has no page {page}; it has pages 1 to {max(pages)}")
    if page in pages:
        return [p for p in passages if p.page == page]
    running = max((p for p in passages if p.page is not None and p.page < page), key=lambda p: p.paragraph)
    return [p for p in passages if p.paragraph == running.paragraph]
