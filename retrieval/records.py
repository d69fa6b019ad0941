"""The records that flow through retrieval: a Source, its Passages, a corpus prepared for an index, and the Hits a
search returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import numpy as np


class Role(StrEnum):
    """What a block of a document is; only BODY and CAPTION blocks are ever returned as answers."""

    BODY = "body"
    HEADING = "heading"
    BYLINE = "byline"
    CAPTION = "caption"


# A caption can hold the only statement of a fact; headings and bylines only name things.
ANSWERS = (Role.BODY, Role.CAPTION)


@dataclass(frozen=True)
class Source:
    """One document and what is known about it; unknown fields stay None, never guessed."""

    id: str
    title: str
    author: str | None = None
    date: str | None = None
    publication: str | None = None
    kind: str | None = None
    url: str | None = None
    file: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def indexed_text(self, text: str, passages: int) -> str:
        """What is embedded and BM25-indexed for a passage of this source holding `text`, the source having
        `passages` answerable ones: the text, led by the title when it is the document's whole body (an abstract,
        a note), since the title then speaks for it alone."""
        return f"{self.title} {text}" if passages == 1 and self.title != self.id else text


@dataclass(frozen=True)
class Passage:
    """A paragraph of a source, verbatim, with its 1-based number in the original document. A paragraph too
    long for one passage is cut into parts (see split.py): each keeps the paragraph's number, so citations
    point to the paragraph, and `part` counts them from 1. `page` (paged formats: where the paragraph starts) and
    `section` (its nearest preceding heading) are None where the document has none."""

    source_id: str
    paragraph: int
    text: str
    role: Role = Role.BODY
    part: int = 1
    page: int | None = None
    section: str | None = None

    @property
    def answerable(self) -> bool:
        return self.role in ANSWERS

    def to_dict(self) -> dict:
        data = {"source_id": self.source_id, "paragraph": self.paragraph, "role": str(self.role), "text": self.text}
        # only later parts say so: the records (and fingerprints) of uncut paragraphs stay as they were, so
        # indexes built before paragraphs were cut still match their sources
        data = {**data, "part": self.part} if self.part > 1 else data
        # likewise page and section: only passages that have them say so
        return {**data, **{k: v for k, v in (("page", self.page), ("section", self.section)) if v is not None}}

    @classmethod
    def from_dict(cls, data: dict) -> Passage:
        page = data.get("page")
        return cls(data["source_id"], int(data["paragraph"]), data["text"], Role(data["role"]),
                   int(data.get("part", 1)), None if page is None else int(page), data.get("section"))


@dataclass(frozen=True)
class PreparedCorpus:
    """A corpus as an index takes it, made once a build by ingest (ingest/prepared.py), so the store reads
    documents no further: every source and block, and for each answerable passage what is embedded and
    BM25-indexed, that text in its context, its sentences, and the groups of near-duplicates among them."""

    sources: dict[str, Source]
    passages: list[Passage]  # every block, in document order
    fingerprint: str  # of the sources and blocks (ingest/corpus.py), to tell when an index is stale
    skipped: list[dict[str, str]]  # the documents left out as unreadable: {"file": ..., "reason": ...}
    answerable: list[Passage]  # the passages an index holds, one row each, in document order
    texts: list[str]  # each row's indexed text
    contexts: list[str]  # each row's text led by the end of the paragraph before it (ingest/context.py)
    sentence_offsets: np.ndarray  # int64: row r's sentences are sentence_offsets[r]:sentence_offsets[r + 1]
    sentence_spans: np.ndarray  # int32 (sentences, 2): each sentence's span in its passage's text
    sentences: list[str]  # each sentence's text
    duplicates: list[list[int]]  # groups of rows holding near-identical text in several sources
    seconds: float  # what preparing took, counted in the build's time (its manifest's build_seconds)


@dataclass(frozen=True)
class Location:
    """Another place that holds the same text as a hit: its source, paragraph and citation."""

    source: Source
    passage: Passage
    citation: str

    def to_dict(self) -> dict:
        return {"source_id": self.source.id, "paragraph": self.passage.paragraph, "citation": self.citation}


@dataclass(frozen=True)
class Hit:
    """A passage returned for a question: its rank and score, its source, a ready citation, where else the same
    text appears, and the (start, end) offsets of the sentences that best answer the question."""

    rank: int
    score: float
    passage: Passage
    source: Source
    citation: str
    cosine: float = 0.0
    relevance: float = 0.0  # calibrated probability that the passage answers the question
    also_in: tuple[Location, ...] = ()
    highlights: tuple[tuple[int, int], ...] = ()

    @property
    def text(self) -> str:
        return self.passage.text

    def to_dict(self) -> dict:
        return {
            "rank": self.rank,
            "score": round(self.score, 4),
            "source_id": self.source.id,
            "title": self.source.title,
            "author": self.source.author,
            "date": self.source.date,
            "paragraph": self.passage.paragraph,
            "page": self.passage.page,
            "section": self.passage.section,
            "text": self.passage.text,
            "citation": self.citation,
            "cosine": round(self.cosine, 4),
            "relevance": round(self.relevance, 4),
            "role": str(self.passage.role),
            "also_in": [location.to_dict() for location in self.also_in],
            "highlights": [list(span) for span in self.highlights],
        }
