"""Answer a question with the closest passages: encode it, search the vectors, keep what passes the threshold."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .cite import citation
from .embed import Encoder
from .errors import QueryError, RetrievalError
from .index import StoredIndex
from .records import Hit, Passage, Source

MAX_SEARCH_K = 1000  # batch evaluation asks for the top 100 or more; a reader sees far fewer


@dataclass(frozen=True)
class Answer:
    """What one question got: its hits, best first (empty when the sources do not cover it), and the time taken."""

    query: str
    hits: list[Hit]
    took_ms: float
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**self.extra, "query": self.query, "took_ms": round(self.took_ms, 2),
                "results": [h.to_dict() for h in self.hits]}


def clean_question(question: str, max_chars: int) -> str:
    """The question with its white space folded; QueryError when it is empty or longer than `max_chars`."""
    query = " ".join(str(question).split())
    if not query:
        raise QueryError("the question is empty; ask something about the sources")
    if len(query) > max_chars:
        raise QueryError(f"the question is {len(query):,} characters long; the limit is {max_chars:,}. "
                         "Ask a shorter question")
    return query


class Retriever:
    """An opened index with its model: search it, and look up its sources and passages."""

    def __init__(self, index: StoredIndex, encoder: Encoder, top_k: int = 3, min_score: float = 0.35,
                 max_question_chars: int = 2000) -> None:
        if encoder.identity.sha256 != index.manifest.model_sha256:
            raise RetrievalError("the encoder is not the model the index was built with")
        self.index = index
        self.encoder = encoder
        self.top_k = top_k
        self.min_score = min_score
        self.max_question_chars = max_question_chars
        self.by_source: dict[str, list[Passage]] = {source_id: [] for source_id in index.sources}
        for passage in index.passages:
            self.by_source[passage.source_id].append(passage)

    @property
    def sources(self) -> dict[str, Source]:
        return self.index.sources

    def source(self, source_id: str) -> Source:
        try:
            return self.index.sources[source_id]
        except KeyError:
            raise RetrievalError(f"unknown source id {source_id!r}; list the ids with `sources`") from None

    def passages_of(self, source_id: str) -> list[Passage]:
        """Every block of a source in document order, headings and captions included."""
        return self.by_source[self.source(source_id).id]

    def answerable_count(self, source_id: str) -> int:
        return sum(1 for p in self.passages_of(source_id) if p.answerable)

    def search(self, question: str, k: int | None = None, min_score: float | None = None) -> list[Hit]:
        """The passages closest to the question, best first, only those scoring at least `min_score`."""
        return self.answer(question, k, min_score).hits

    def answer(self, question: str, k: int | None = None, min_score: float | None = None) -> Answer:
        start = time.perf_counter()
        query = self.clean(question)
        k = self.top_k if k is None else k
        if not 1 <= k <= MAX_SEARCH_K:
            raise QueryError(f"k must be between 1 and {MAX_SEARCH_K}, not {k}")
        threshold = self.min_score if min_score is None else min_score
        vector = self.encoder.encode([query])
        scores, rows = self.index.vectors.search(vector, min(k, self.index.vectors.ntotal))
        hits = [self.hit(rank, float(score), int(row))
                for rank, (score, row) in enumerate(zip(scores[0], rows[0], strict=True), start=1)
                if row >= 0 and score >= threshold]
        return Answer(query, hits, (time.perf_counter() - start) * 1000)

    def clean(self, question: str) -> str:
        return clean_question(question, self.max_question_chars)

    def hit(self, rank: int, score: float, row: int) -> Hit:
        passage = self.index.passages[self.index.rows[row]]
        source = self.index.sources[passage.source_id]
        return Hit(rank, score, passage, source, citation(source, passage.paragraph))
