"""Answer a question with the passages that answer it: dense (passage and sentence vectors) and lexical
candidates, fused, duplicates shown once, a calibrated "covered?" decision, and as many passages as the first
leaves in doubt, each with its calibrated probability of answering."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from threadpoolctl import threadpool_limits

from ..encode.embed import TextEncoder
from ..encode.rerank import Reranker
from ..errors import QueryError, RetrievalError
from ..records import Hit, Location, Passage, Source
from ..settings import MAX_SEARCH_K, SearchSettings
from ..store.lexical import LexicalHits
from ..store.searchable import SearchIndex
from .cite import citation
from .coverage import JUDGED, Signals
from .fusion import reciprocal_rank, weighted
from .highlight import best_spans, sentence_scores, topic_of
from .language import LanguageCheck
from .names import names_in, without_names
from .utf8 import check_utf8, printable

CANDIDATES = 100  # taken from each of the dense and lexical rankings before fusing
SAME_SCORE = 1e-4  # fused scores this close are one score: copies of a paragraph differ by rounding alone
LOOKED_UP = 2  # x the passages wanted: of the candidates in order, how many are looked up at once (copies skipped)
# A passage matched only when read after the paragraph before it is a little less likely to answer by itself.
# Chosen on the development sets (BENCHMARKS.md, "Passages in context"): 0 and 0.03 ranked the seeds alike; 0.03
# kept SQuAD's top 3 (97.3% at 0, 97.7% at 0.03); 0.05, with the whole paragraph before, lost two seeds' top 3.
CONTEXT_DISCOUNT = 0.03


@dataclass(frozen=True)
class Answer:
    """What one question got and what produced it: the hits shown, best first (empty when the sources do not
    cover it), the settings that cut them, the gate's probability, the signals both models read, and the time."""

    query: str
    hits: list[Hit]
    took_ms: float
    settings: SearchSettings
    k: int
    gated: bool = True  # False: the top k as ranked, with no "covered?" decision or cut (evaluation)
    relevance: float = 0.0  # the gate's probability that the sources answer the question, whether or not covered
    signals: Signals | None = field(default=None, compare=False, repr=False)  # of the distinct passages, best first

    @property
    def covered(self) -> bool:
        return bool(self.hits)

    def to_dict(self) -> dict:
        return {"query": self.query, "took_ms": round(self.took_ms, 2), "covered": self.covered,
                "relevance": round(self.relevance, 4), "mode": self.settings.mode, "k": self.k,
                "min_relevance": self.settings.min_relevance if self.gated else None,
                "results": [h.to_dict() for h in self.hits]}


@dataclass(frozen=True)
class Candidates:
    """Vector rows worth ranking, with their own cosine, their cosine in context, their best sentence's cosine
    and their BM25 score."""

    rows: np.ndarray
    cosine: np.ndarray
    context: np.ndarray
    sentence: np.ndarray
    bm25: np.ndarray
    bm25_ceiling: float

    def dense(self, settings: SearchSettings) -> np.ndarray:
        """Each row's dense score: the best of the cosines the settings read."""
        return dense_score(self.cosine, self.context, self.sentence, settings)

    def lexical_share(self) -> np.ndarray:
        return self.bm25 / self.bm25_ceiling if self.bm25_ceiling > 0 else np.zeros_like(self.bm25)


def dense_score(own: np.ndarray, context: np.ndarray, sentence: np.ndarray, settings: SearchSettings) -> np.ndarray:
    """The best of a passage's own cosine, its cosine in context less CONTEXT_DISCOUNT and its best sentence's,
    of those the settings read."""
    score = np.maximum(own, context - CONTEXT_DISCOUNT) if settings.context_vectors else own
    return np.maximum(score, sentence) if settings.sentence_vectors else score


def clean_question(question: str, max_chars: int) -> str:
    """The question with its white space folded; QueryError when it is empty or longer than `max_chars`."""
    query = " ".join(check_utf8(str(question)).split())
    if not query:
        raise QueryError("the question is empty; ask something about the sources")
    if len(query) > max_chars:
        raise QueryError(f"the question is {len(query):,} characters long; the limit is {max_chars:,}. "
                         "Ask a shorter question")
    return query


class Retriever:
    """An opened index with its model: search it, and look up its sources and passages."""

    def __init__(self, index: SearchIndex, encoder: TextEncoder, settings: SearchSettings | None = None,
                 reranker: Reranker | None = None) -> None:
        if not encoder.identity.same_vectors(index.manifest.model_sha256, index.manifest.model_backend):
            raise RetrievalError("the encoder is not the model the index was built with")
        # A search multiplies a few hundred vectors at a time, one question after another: OpenBLAS's worker
        # threads then spin between products and starve the model's own (SciFact p50 117 ms -> 17 ms on two
        # cores; BENCHMARKS.md). One BLAS thread is plenty for products this small.
        threadpool_limits(limits=1, user_api="blas")
        self.index = index
        self.encoder = encoder
        self.settings = settings or SearchSettings()
        self.reranker = reranker
        self.language = LanguageCheck()

    def over(self, index: SearchIndex) -> Retriever:
        """This retriever searching another index (a server's library layered over the shared one): the same
        model, settings and re-ranker, and the same language check, whose model is loaded once per process."""
        other = Retriever(index, self.encoder, self.settings, self.reranker)
        other.language = self.language
        return other

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
        return self.index.passages_of(self.source(source_id).id)

    def answerable_count(self, source_id: str) -> int:
        return self.index.answerable_count(self.source(source_id).id)

    def context(self, hit: Hit, around: int) -> tuple[list[Passage], list[Passage]]:
        """The `around` paragraphs before and after a hit in its document."""
        passages = self.passages_of(hit.source.id)
        at = passages.index(hit.passage)
        return passages[max(0, at - around):at], passages[at + 1:at + 1 + around]

    def search(self, question: str, k: int | None = None, settings: SearchSettings | None = None) -> list[Hit]:
        """The passages that answer the question, best first; empty when the sources do not cover it."""
        return self.answer(question, k, settings).hits

    def answer(self, question: str, k: int | None = None, settings: SearchSettings | None = None,
               highlight: bool = True, gate: bool = True) -> Answer:
        """Up to k passages (the settings' top_k by default). With `gate` off, the top k as ranked."""
        return self.answer_many([question], k, settings, highlight, gate)[0]

    def answer_many(self, questions: Sequence[str], k: int | Sequence[int | None] | None = None,
                    settings: SearchSettings | None = None, highlight: bool = True,
                    gate: bool = True) -> list[Answer]:
        """answer() for each question, in order, computed together: one model call for all the questions, one
        search of each kind (passage vectors, sentence vectors, BM25) for all of them, one tokenizer call for
        all their words and another for the sentences highlighted. `k` is one for all or one per question.
        Each answer's took_ms is the whole batch's time. QueryError (naming the question) when any is not
        searchable, before any work."""
        start = time.perf_counter()
        settings = settings or self.settings
        ks = list(k) if isinstance(k, Sequence) else [k] * len(questions)
        if len(ks) != len(questions):
            raise QueryError(f"{len(ks)} values of k for {len(questions)} questions")
        checked = [self.checked(question, each, settings, len(questions) > 1)
                   for question, each in zip(questions, ks, strict=True)]
        if not checked:
            return []
        queries = [query for query, _ in checked]
        vectors = self.encoder.encode(queries)
        asked = self.index.terms_many(queries)
        found = self.candidates_many(queries, asked, vectors, [max(CANDIDATES, each) for _, each in checked])
        ranked = []
        for (query, each), candidates in zip(checked, found, strict=True):
            ranking, order = self.ordered(candidates, settings)
            order = self.reranked(query, candidates, order, settings.rerank_depth)
            ranked.append((ranking, self.distinct(candidates, order, ranking, max(each, JUDGED))))
        signals = self.signals_many(queries, vectors, found, ranked, settings)
        answers: list[tuple[list[int], list[Hit]]] = []
        covered = [judged.covered() for judged in signals]
        for (_, each), candidates, (ranking, groups), judged, chance in zip(checked, found, ranked, signals, covered,
                                                                            strict=True):
            relevance = judged.answers()
            shown = self.shown(judged, chance, relevance, settings, each) if gate else list(range(each))
            answers.append(self.collect(candidates, groups, ranking, relevance, shown))
        if highlight:
            highlighted = self.highlight_many(asked, vectors, answers)
            answers = [(rows, hits) for (rows, _), hits in zip(answers, highlighted, strict=True)]
        took = (time.perf_counter() - start) * 1000
        return [Answer(query, hits, took, settings, each, gate, chance, judged)
                for (query, each), (_, hits), judged, chance in zip(checked, answers, signals, covered, strict=True)]

    def checked(self, question: str, k: int | None, settings: SearchSettings | None = None,
                numbered: bool = False) -> tuple[str, int]:
        """The question cleaned and the k it asks for, or the QueryError answering it would raise (Unreadable for
        a question in a language the model cannot read)."""
        settings = settings or self.settings
        k = settings.top_k if k is None else k
        try:
            query = clean_question(question, settings.max_question_chars)
            if settings.english_only:
                self.language.check(query)
            if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_SEARCH_K:
                raise QueryError(f"k must be between 1 and {MAX_SEARCH_K}, not {k}")
        except QueryError as exc:
            if numbered:
                raise QueryError(f"question {printable(question)[:40]!r}: {exc}") from None
            raise
        return query, k

    def ranked_sources(self, question: str, depth: int, settings: SearchSettings | None = None) -> list[str]:
        """Source ids in rank order (each once, at its best passage), with no threshold: for evaluation."""
        settings = settings or self.settings
        query = clean_question(question, settings.max_question_chars)
        found, _, order = self.ranked(query, self.encoder.encode([query])[0], depth, settings)
        ranked: dict[str, None] = {}
        for passage in self.index.passages_at(found.rows[order].tolist()):
            ranked.setdefault(passage.source_id)
        return list(ranked)[:depth]

    def ranked(self, query: str, vector: np.ndarray, depth: int,
               settings: SearchSettings) -> tuple[Candidates, np.ndarray, np.ndarray]:
        """The candidates, their scores under the settings, and their positions best first."""
        found = self.candidates(query, vector, depth)
        return found, *self.ordered(found, settings)

    def ordered(self, found: Candidates, settings: SearchSettings) -> tuple[np.ndarray, np.ndarray]:
        """The candidates' scores under the settings, and their positions best first (ties in row order)."""
        ranking = self.rank(found, settings)
        return ranking, np.argsort(-ranking, kind="stable")

    def candidates(self, query: str, vector: np.ndarray, depth: int) -> Candidates:
        """The top `depth` rows by passage vector, by sentence vector and by BM25, pooled."""
        return self.candidates_many([query], self.index.terms_many([query]), vector[None, :], [depth])[0]

    def candidates_many(self, queries: list[str], asked: list[set[str]], vectors: np.ndarray,
                        depths: list[int]) -> list[Candidates]:
        """candidates() of each query (its terms `asked`, its row of `vectors`), with one search per kind for
        all the queries of the same depth."""
        index = self.index
        found: list[Candidates | None] = [None] * len(queries)
        for depth in set(depths):
            which = [i for i, each in enumerate(depths) if each == depth]
            depth = min(depth, index.count)
            dense = index.nearest(vectors[which], depth)
            by_sentence = index.nearest_by_sentence(vectors[which], depth)
            lexical = index.lexical_hits([asked[i] for i in which], depth)
            for i, rows, sentence_rows, words in zip(which, dense, by_sentence, lexical, strict=True):
                found[i] = self.pooled(vectors[i], rows, sentence_rows, words)
        return found

    def pooled(self, vector: np.ndarray, dense_rows: np.ndarray, sentence_rows: np.ndarray,
               lexical: LexicalHits) -> Candidates:
        """The rows found by either kind of vector or by BM25, and all their scores."""
        rows = np.union1d(np.union1d(dense_rows, sentence_rows), lexical.top).astype(np.int64)
        if not len(rows):
            empty = np.zeros(0, dtype=np.float32)
            return Candidates(rows, empty, empty, empty, empty, lexical.ceiling)
        return Candidates(rows, self.index.cosines_of(rows, vector), self.index.context_cosines_of(rows, vector),
                          self.index.best_sentences_of(rows, vector), lexical.scores(rows), lexical.ceiling)

    def reranked(self, query: str, found: Candidates, order: np.ndarray, depth: int) -> np.ndarray:
        """The order with its first `depth` candidates re-ordered by the cross-encoder, when there is one."""
        if self.reranker is None or not len(order):
            return order
        head = order[:depth]
        scores = self.reranker.scores(query, [self.location(int(found.rows[p])).passage.text for p in head])
        return np.concatenate([head[np.argsort(-scores, kind="stable")], order[depth:]])

    def rank(self, found: Candidates, settings: SearchSettings) -> np.ndarray:
        """A score per candidate under the mode: dense score, BM25, or their fusion."""
        dense = found.dense(settings)
        if settings.mode == "dense":
            return dense
        if settings.mode == "lexical":
            return found.bm25
        if settings.fusion == "rrf":
            return reciprocal_rank(dense, found.bm25)
        return weighted(dense, found.bm25, settings.dense_weight)

    def distinct(self, found: Candidates, order: np.ndarray, ranking: np.ndarray,
                 depth: int) -> list[tuple[int, list[int]]]:
        """The first `depth` candidates in order that are not copies of one before, each with its duplicate group
        (every row holding the same text, itself first)."""
        groups: list[tuple[int, list[int]]] = []
        at = {int(row): position for position, row in enumerate(found.rows.tolist())}
        seen: set[int] = set()
        texts: set[str] = set()  # the same words twice in one source are not grouped as copies, but read as such
        # the passages likely wanted, asked for at once: a store that fetches them (Milvus) then has them at hand
        self.index.passages_at(found.rows[order[:LOOKED_UP * depth]].tolist())
        for position in order.tolist():
            if len(groups) == depth:
                break
            row = int(found.rows[position])
            text = self.location(row).passage.text
            if row in seen or text in texts:
                continue
            group = self.index.copies_of(row)
            seen.update(group)
            texts.add(text)
            # of copies scored alike but for rounding (which two stores round alike only by luck), the first in
            # the index is the one shown, whichever store holds it
            row = min(other for other in group if other == row or (
                other in at and ranking[at[other]] >= ranking[position] - SAME_SCORE))
            groups.append((at.get(row, position), [row, *(other for other in group if other != row)]))
        return groups

    def signals_many(self, queries: list[str], vectors: np.ndarray, found: list[Candidates],
                     ranked: list[tuple[np.ndarray, list[tuple[int, list[int]]]]],
                     settings: SearchSettings) -> list[Signals]:
        """What the gate and the cut read of each question's distinct passages; the questions that name what their
        first passages name are asked again without those names, all in one model call."""
        unnamed = []
        for query, (_, groups) in zip(queries, ranked, strict=True):
            texts = [self.location(rows[0]).passage.text for _, rows in groups[:JUDGED]]
            unnamed.append(without_names(query, names_in(texts, query)))
        changed = [i for i, (query, text) in enumerate(zip(queries, unnamed, strict=True)) if text and text != query]
        unnamed_vectors = vectors.copy()
        if changed:
            unnamed_vectors[changed] = self.encoder.encode([unnamed[i] for i in changed])
        asked_again = set(changed)
        signals = []
        for i, (candidates, (ranking, groups)) in enumerate(zip(found, ranked, strict=True)):
            positions = np.array([position for position, _ in groups], dtype=np.int64)
            dense = candidates.dense(settings)[positions]
            if i in asked_again:
                again = self.dense_of(candidates.rows[positions], unnamed_vectors[i], settings)
            else:
                again = dense
            signals.append(Signals(dense, candidates.lexical_share()[positions], again, ranking[positions],
                                   float(unnamed_vectors[i] @ self.index.centroid)))
        return signals

    def dense_of(self, rows: np.ndarray, vector: np.ndarray, settings: SearchSettings) -> np.ndarray:
        """The dense score of these rows for another vector, asking the store only for the cosines the settings
        read (on Milvus each is a call)."""
        own = self.index.cosines_of(rows, vector)
        context = self.index.context_cosines_of(rows, vector) if settings.context_vectors else own
        sentence = self.index.best_sentences_of(rows, vector) if settings.sentence_vectors else own
        return dense_score(own, context, sentence, settings)

    def shown(self, judged: Signals, covered: float, relevance: np.ndarray, settings: SearchSettings,
              k: int) -> list[int]:
        """Which of the distinct passages to show, by their place: none unless the gate finds the question covered
        and the first clears the cosine floor; only the first when it clearly answers; else each of the first k
        likely enough to be related."""
        if not len(relevance) or covered < settings.min_relevance or judged.dense[0] < settings.min_score:
            return []
        if relevance[0] >= settings.clear:
            return [0]
        return [0, *(i for i in range(1, min(k, len(relevance))) if relevance[i] >= settings.related)]

    def collect(self, found: Candidates, groups: list[tuple[int, list[int]]], ranking: np.ndarray,
                relevance: np.ndarray, shown: list[int]) -> tuple[list[int], list[Hit]]:
        """The hits at the places shown, best first, each with where else its text appears, and their rows."""
        rows: list[int] = []
        hits: list[Hit] = []
        for at in shown:
            if at >= len(groups):
                break
            position, group = groups[at]
            place = self.location(group[0])
            hits.append(Hit(len(hits) + 1, float(ranking[position]), place.passage, place.source, place.citation,
                            float(found.cosine[position]), float(relevance[at]),
                            tuple(self.location(other) for other in group[1:])))
            rows.append(group[0])
        return rows, hits

    def highlight_many(self, asked: list[set[str]], vectors: np.ndarray,
                       answers: list[tuple[list[int], list[Hit]]]) -> list[list[Hit]]:
        """Each answer's hits with the sentence(s) closest to its question marked (by their stored vectors and
        the stemmed words `asked` they share), every sentence of every hit split into words in one call."""
        every_row = [row for rows, _ in answers for row in rows]
        sentences = self.index.sentences_of(np.array(every_row, dtype=np.int64))
        at = iter(range(len(every_row)))
        picked = [[sentences.of(next(at)) for _ in rows] for rows, _ in answers]
        spans = [[[tuple(span) for span in sentences.spans[which].tolist()] for which in rows] for rows in picked]
        texts = [text for (_, hits), of_hits in zip(answers, spans, strict=True)
                 for hit, of_hit in zip(hits, of_hits, strict=True)
                 for text in [topic_of(hit), *(hit.text[a:b] for a, b in of_hit)]]
        said = iter(self.index.terms_many(texts))
        highlighted = []
        for question, vector, (_, hits), rows, of_hits in zip(asked, vectors, answers, picked, spans, strict=True):
            marked = []
            for hit, which, of_hit in zip(hits, rows, of_hits, strict=True):
                topic = next(said)
                words = [next(said) for _ in of_hit]
                scores = sentence_scores(sentences.vectors[which] @ vector, words, question, topic)
                marked.append(replace(hit, highlights=tuple(best_spans(of_hit, scores))))
            highlighted.append(marked)
        return highlighted

    def location(self, row: int) -> Location:
        (passage,) = self.index.passages_at([row])
        source = self.index.sources[passage.source_id]
        return Location(source, passage, citation(source, passage))
