"""Answer a question with the closest passages: dense and lexical candidates, fused, gated, deduplicated."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np

from .cite import citation
from .embed import TextEncoder
from .errors import QueryError, RetrievalError
from .fusion import DENSE_WEIGHT, reciprocal_rank, weighted
from .highlight import WORD_BONUS, best_spans, sentence_spans
from .index import StoredIndex
from .records import Hit, Location, Passage, Source

MODES = ("hybrid", "dense", "lexical")
MAX_SEARCH_K = 1000  # batch evaluation asks for the top 100 or more; a reader sees far fewer
CANDIDATES = 100  # taken from each of the dense and lexical rankings before fusing
SENTENCE_CACHE_SIZE = 20_000  # sentence embeddings kept for highlighting (about 30 MB)


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


@dataclass(frozen=True)
class Candidates:
    """Vector rows worth ranking, with both their cosine and their BM25 score."""

    rows: np.ndarray
    cosine: np.ndarray
    bm25: np.ndarray


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

    def __init__(self, index: StoredIndex, encoder: TextEncoder, top_k: int = 3, min_score: float = 0.32,
                 max_question_chars: int = 2000, mode: str = "hybrid", dense_weight: float = DENSE_WEIGHT,
                 fusion: str = "weighted") -> None:
        if not encoder.identity.same_vectors(index.manifest.model_sha256, index.manifest.model_backend):
            raise RetrievalError("the encoder is not the model the index was built with")
        self.index = index
        self.encoder = encoder
        self.top_k = top_k
        self.min_score = min_score
        self.max_question_chars = max_question_chars
        self.mode = check_mode(mode)
        self.dense_weight = dense_weight
        self.fusion = fusion
        self.sentence_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.sentence_cache_size = SENTENCE_CACHE_SIZE
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

    def context(self, hit: Hit, around: int) -> tuple[list[Passage], list[Passage]]:
        """The `around` paragraphs before and after a hit in its document."""
        passages = self.passages_of(hit.source.id)
        at = hit.passage.paragraph - 1
        return passages[max(0, at - around):at], passages[at + 1:at + 1 + around]

    def search(self, question: str, k: int | None = None, min_score: float | None = None,
               mode: str | None = None) -> list[Hit]:
        """The passages closest to the question, best first; only those whose cosine reaches `min_score`."""
        return self.answer(question, k, min_score, mode).hits

    def answer(self, question: str, k: int | None = None, min_score: float | None = None,
               mode: str | None = None, highlight: bool = True) -> Answer:
        start = time.perf_counter()
        query = clean_question(question, self.max_question_chars)
        k = self.top_k if k is None else k
        if not 1 <= k <= MAX_SEARCH_K:
            raise QueryError(f"k must be between 1 and {MAX_SEARCH_K}, not {k}")
        threshold = self.min_score if min_score is None else min_score
        vector = self.encoder.encode([query])[0]
        found = self.candidates(query, vector, max(CANDIDATES, k))
        ranking = self.rank(found, check_mode(mode or self.mode))
        hits = self.collect(found, ranking, k, threshold)
        if highlight:
            hits = self.highlight(query, vector, hits)
        return Answer(query, hits, (time.perf_counter() - start) * 1000)

    def ranked_sources(self, question: str, depth: int, mode: str | None = None) -> list[str]:
        """Source ids in rank order (each once, at its best passage), with no threshold: for evaluation."""
        query = clean_question(question, self.max_question_chars)
        found = self.candidates(query, self.encoder.encode([query])[0], depth)
        ranking = self.rank(found, check_mode(mode or self.mode))
        ranked: dict[str, None] = {}
        for position in np.argsort(-ranking, kind="stable"):
            ranked.setdefault(self.index.passages[self.index.rows[int(found.rows[position])]].source_id)
        return list(ranked)[:depth]

    def candidates(self, query: str, vector: np.ndarray, depth: int) -> Candidates:
        vectors = self.index.vectors
        depth = min(depth, vectors.ntotal)
        _, dense_rows = vectors.search(vector[None, :], depth)
        bm25_all = self.index.lexical.scores(query)
        lexical_rows = np.argpartition(-bm25_all, depth - 1)[:depth] if depth < len(bm25_all) else np.arange(
            len(bm25_all))
        rows = np.union1d(dense_rows[0][dense_rows[0] >= 0], lexical_rows[bm25_all[lexical_rows] > 0])
        cosine = self.index.embeddings[rows] @ vector if len(rows) else np.zeros(0, dtype=np.float32)
        return Candidates(rows, cosine, bm25_all[rows])

    def rank(self, found: Candidates, mode: str) -> np.ndarray:
        """A score per candidate under the mode: cosine, BM25, or their weighted fusion."""
        if mode == "dense":
            return found.cosine
        if mode == "lexical":
            return found.bm25
        if self.fusion == "rrf":
            return reciprocal_rank(found.cosine, found.bm25)
        return weighted(found.cosine, found.bm25, self.dense_weight)

    def collect(self, found: Candidates, scores: np.ndarray, k: int, threshold: float) -> list[Hit]:
        """The top k candidates that pass the threshold, each duplicate group shown once, best copy first."""
        hits: list[Hit] = []
        shown: set[int] = set()
        for position in np.argsort(-scores, kind="stable"):
            row, cosine = int(found.rows[position]), float(found.cosine[position])
            if len(hits) == k:
                break
            if cosine < threshold or row in shown:
                continue
            group = self.index.duplicates.get(row, [row])
            shown.update(group)
            hit = self.hit(len(hits) + 1, float(scores[position]), row, cosine)
            hits.append(replace(hit, also_in=tuple(self.location(other) for other in group if other != row)))
        return hits

    def highlight(self, query: str, vector: np.ndarray, hits: list[Hit]) -> list[Hit]:
        """Mark in each hit the sentence(s) closest to the question, by embedding and shared words."""
        spans = [sentence_spans(hit.text) for hit in hits]
        sentences = [hit.text[a:b] for hit, hit_spans in zip(hits, spans, strict=True) for a, b in hit_spans]
        vectors = self.sentence_vectors(sentences)
        asked = self.index.lexical.terms(query)
        marked = []
        for hit, hit_spans in zip(hits, spans, strict=True):
            scores = np.array([float(vectors[hit.text[a:b]] @ vector)
                               + WORD_BONUS * overlap(asked, self.index.lexical.terms(hit.text[a:b]))
                               for a, b in hit_spans])
            marked.append(replace(hit, highlights=tuple(best_spans(hit_spans, scores))))
        return marked

    def sentence_vectors(self, sentences: list[str]) -> dict[str, np.ndarray]:
        """Embeddings of the sentences, from a bounded cache: the passages people ask about recur."""
        cache = self.sentence_cache
        wanted = dict.fromkeys(sentences)
        missing = [s for s in wanted if s not in cache]
        found = dict(zip(missing, self.encoder.encode(missing), strict=True)) if missing else {}
        found.update((s, cache[s]) for s in wanted if s not in found)
        # Evict only after this question has every vector it needs, least recently used first.
        for sentence, vector in found.items():
            cache[sentence] = vector
            cache.move_to_end(sentence)
        while len(cache) > self.sentence_cache_size:
            cache.popitem(last=False)
        return found

    def hit(self, rank: int, score: float, row: int, cosine: float) -> Hit:
        place = self.location(row)
        return Hit(rank, score, place.passage, place.source, place.citation, cosine)

    def location(self, row: int) -> Location:
        passage = self.index.passages[self.index.rows[row]]
        source = self.index.sources[passage.source_id]
        return Location(source, passage, citation(source, passage.paragraph))


def overlap(asked: set[str], said: set[str]) -> float:
    return len(asked & said) / len(asked) if asked else 0.0


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise QueryError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
    return mode
