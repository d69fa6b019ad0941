"""A Retriever's answers and sources in; the JSON the command line prints with --json and the service sends out."""

from __future__ import annotations

from ..search.retriever import Retriever


def sources_json(retriever: Retriever) -> list[dict]:
    """`sources --json`: every source with its answerable passages counted."""
    return [{**s.to_dict(), "passages": retriever.answerable_count(s.id)} for s in retriever.sources.values()]


def source_json(retriever: Retriever, source_id: str) -> dict:
    """`show ID --json`: one source and all its passages; RetrievalError for an unknown id."""
    source = retriever.source(source_id)
    return {"source": source.to_dict(), "passages": [p.to_dict() for p in retriever.passages_of(source.id)]}
