"""A question in, the passages that answer it out (an `Answer`): each question is one record (`_Question`) passed
through named stages, each a small function, in the order `_STAGES` (at the end of this module) lists them:

  _encoded      the question's vector and stemmed words, and the vector of its copy without the names it
                capitalises (one model call for every question asked together, and their copies)
  _candidates   the rows found by passage vector, sentence vector and BM25, pooled, with all their scores
  _fused        each candidate's score under the mode, and the candidates best first
  _cross_encoded  the first candidates re-ordered by the configured cross-encoder, when there is one
  _distinct     the first candidates that are not copies of one before, each with its duplicate group
  _late_read    the first `late_depth` of them re-ordered by their fused score blended with MaxSim over the model's
                token vectors (search/late_interaction.py), when `late_interaction` is on
  _signals      what the gate and the cut read of the distinct passages, the question without their names among
                them (encoded already when the guess was right)
  _answer_typed whether the question asks for a kind of answer (a measure, a date, a count...) that the first
                passage's sentences about it lack (search/answer_type.py), when late interaction read it
  _gate         the probability that the sources answer the question, and each passage's probability
  _cut          the passages shown: none when not covered, the first alone when it clearly answers, else the likely
  _highlighted  the sentences of each hit closest to the question marked

How to add a stage (a re-ranker, an answer checker): write `def _stage(retriever, question) -> _Question` that
returns the record with its own fields filled (`dataclasses.replace`; add them to `_Question`, each with a comment
naming the stage that fills it), wrap it in `_each(...)` (or write `(retriever, questions) -> questions` when one
model call should serve every question asked together), and put it in `_STAGES` where what it reads is ready. A
re-ranker of the distinct passages goes between `_distinct` and `_signals`, as `_late_read` does: it re-orders
`question.distinct`, best first, and the gate and cut then read the new order."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from threadpoolctl import threadpool_limits

from ..encode.embed import TextEncoder, TokenEncoder
from ..encode.rerank import Reranker
from ..errors import QueryError, RetrievalError
from ..records import Hit, Location, Passage, Source
from ..settings import MAX_SEARCH_K, SearchSettings
from ..store.lexical import LexicalHits
from ..store.searchable import SearchIndex
from ..store.tokens import sentence_of_tokens
from .answer_type import lacks_answer_type
from .cite import citation
from .coverage import JUDGED, LATE_BLEND, Signals
from .fusion import reciprocal_rank, weighted
from .highlight import best_spans, sentence_scores, topic_of
from .language import LanguageCheck
from .late_interaction import LateInteraction, blend, maxsim
from .names import names_asked, names_in, without_names
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


@dataclass(frozen=True)
class _Distinct:
    """A passage no candidate before it copies: its position among the candidates, and every row holding its text
    (the one shown first)."""

    position: int
    rows: list[int]


@dataclass(frozen=True)
class _Question:
    """One question on its way through the stages: what was asked, then what each stage made of it."""

    query: str  # cleaned (white space folded), checked
    k: int  # passages wanted at most
    settings: SearchSettings
    gated: bool  # False: the top k as ranked, no "covered?" decision or cut
    highlight: bool
    vector: np.ndarray | None = None  # _encoded: the question's unit vector
    tokens: np.ndarray | None = None  # _encoded, for late interaction: its token vectors (same model call)
    terms: set[str] = field(default_factory=set)  # _encoded: its stemmed words
    guessed: str = ""  # _encoded: the question without the names it capitalises ("" when it capitalises none)
    guessed_vector: np.ndarray | None = None  # _encoded: that copy's vector
    found: Candidates | None = None  # _candidates
    ranking: np.ndarray | None = None  # _fused: each candidate's score under the mode
    order: np.ndarray | None = None  # _fused (and _cross_encoded): the candidates' positions, best first
    distinct: list[_Distinct] = field(default_factory=list)  # _distinct: best first, max(k, JUDGED) at most
    late: np.ndarray | None = None  # _late_read: each distinct passage's MaxSim (those not read: the least read)
    signals: Signals | None = None  # _signals: of the distinct passages, in their order
    covered: float = 0.0  # _gate: the probability that the sources answer the question
    relevance: np.ndarray | None = None  # _gate: each distinct passage's probability of answering it
    rows: list[int] = field(default_factory=list)  # _cut: the rows of the hits
    hits: list[Hit] = field(default_factory=list)  # _cut, then _highlighted

    def answer(self, took_ms: float) -> Answer:
        return Answer(self.query, self.hits, took_ms, self.settings, self.k, self.gated, self.covered, self.signals)


Stage = Callable[["Retriever", list[_Question]], list[_Question]]


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
                 reranker: Reranker | None = None, questions: TextEncoder | None = None) -> None:
        """`questions` encodes the questions (`encoder` by default), `encoder` whatever the index needs. RetrievalError
        when `encoder` is not the model (or a backend of the same vectors) `index` was built with, or `questions` is
        another model."""
        if not encoder.identity.same_vectors(index.manifest.model_sha256, index.manifest.model_backend):
            raise RetrievalError("the encoder is not the model the index was built with")
        if questions is not None and questions.identity.sha256 != encoder.identity.sha256:
            raise RetrievalError("the encoder of questions is not the model the index was built with")
        # A search multiplies a few hundred vectors at a time, one question after another: OpenBLAS's worker
        # threads then spin between products and starve the model's own (SciFact p50 117 ms -> 17 ms on two
        # cores; BENCHMARKS.md). One BLAS thread is plenty for products this small.
        threadpool_limits(limits=1, user_api="blas")
        self.index = index
        self.encoder = encoder
        self.questions = questions or encoder
        self.settings = settings or SearchSettings()
        self.reranker = reranker
        self.language = LanguageCheck()
        # None for an encoder that gives no token vectors (the ONNX exports): `late_interaction` is then skipped
        self.late = LateInteraction(encoder) if isinstance(encoder, TokenEncoder) else None
        self.late_blend = LATE_BLEND  # `calibrate` sets the blend it is fitting the other models under

    def over(self, index: SearchIndex) -> Retriever:
        """This retriever searching another index (a server's library layered over the shared one): the same
        model, settings and re-ranker, and the same language check, whose model is loaded once per process."""
        other = Retriever(index, self.encoder, self.settings, self.reranker, self.questions)
        other.language = self.language
        other.late = self.late
        other.late_blend = self.late_blend
        return other

    @property
    def sources(self) -> dict[str, Source]:
        return self.index.sources

    def source(self, source_id: str) -> Source:
        """The source with this id; RetrievalError naming it when there is none."""
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
        """The passages that answer the question, best first (at most k, the settings' top_k by default); empty
        when the sources do not cover it. Raises QueryError (Unreadable for a language the model cannot read)
        when the question cannot be searched, and RetrievalError (IndexCorrupt...) when the index fails."""
        return self.answer(question, k, settings).hits

    def answer(self, question: str, k: int | None = None, settings: SearchSettings | None = None,
               highlight: bool = True, gate: bool = True) -> Answer:
        """The Answer to one question: up to k hits (the settings' top_k by default), none when the gate finds the
        sources do not cover it; with `gate` off, the top k as ranked. Raises as search() does."""
        return self.answer_many([question], k, settings, highlight, gate)[0]

    def answer_many(self, questions: Sequence[str], k: int | Sequence[int | None] | None = None,
                    settings: SearchSettings | None = None, highlight: bool = True,
                    gate: bool = True) -> list[Answer]:
        """answer() for each question, in order, computed together: one model call for all the questions, one
        search of each kind (passage vectors, sentence vectors, BM25) for all of them, one tokenizer call for
        all their words and another for the sentences highlighted. `k` is one for all or one per question.
        Each answer's took_ms is the whole batch's time. Raises QueryError (naming the question) when any is not
        searchable, before any work, and RetrievalError when the index fails."""
        start = time.perf_counter()
        settings = settings or self.settings
        ks = list(k) if isinstance(k, Sequence) else [k] * len(questions)
        if len(ks) != len(questions):
            raise QueryError(f"{len(ks)} values of k for {len(questions)} questions")
        asked = [_Question(*self.checked(question, each, settings, len(questions) > 1), settings, gate, highlight)
                 for question, each in zip(questions, ks, strict=True)]
        if not asked:
            return []
        for stage in _STAGES:
            asked = stage(self, asked)
        took = (time.perf_counter() - start) * 1000
        return [question.answer(took) for question in asked]

    def checked(self, question: str, k: int | None, settings: SearchSettings | None = None,
                numbered: bool = False) -> tuple[str, int]:
        """The question cleaned and the k it asks for, or the QueryError answering it would raise (Unreadable for
        a question in a language the model cannot read; with `numbered`, the message quotes the question)."""
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
        """Source ids in rank order (each once, at its best passage), with no threshold: for evaluation. Raises
        QueryError for an empty or overlong question."""
        settings = settings or self.settings
        query = clean_question(question, settings.max_question_chars)
        reads_late = _late_on(self, settings)
        vector, tokens = _question_vectors(self, [query], 1, reads_late)
        found = _pooled_many(self, vector, self.index.terms_many([query]), [depth])[0]
        ranking = _rank(found, settings)
        order = _best_first(ranking)
        if reads_late and len(order):
            head = order[:settings.late_depth]  # rows, not distinct passages: a BEIR corpus holds no copies
            ((moved, _),) = _late_orders(self, [(query, tokens[0], found.rows[head].tolist(), ranking[head])])
            order = np.concatenate([head[moved], order[len(head):]])
        ranked: dict[str, None] = {}
        for passage in self.index.passages_at(found.rows[order].tolist()):
            ranked.setdefault(passage.source_id)
        return list(ranked)[:depth]

    def _indexed_text(self, passage: Passage) -> str:
        """The text the index embedded for a passage (Source.indexed_text): what its kept token vectors read, so
        that a passage read at question time is read alike."""
        source = self.index.sources[passage.source_id]
        return source.indexed_text(passage.text, self.index.answerable_count(source.id))

    def _location(self, row: int) -> Location:
        (passage,) = self.index.passages_at([row])
        source = self.index.sources[passage.source_id]
        return Location(source, passage, citation(source, passage))


# --- the stages, in the order _STAGES runs them ---

def _each(stage: Callable[[Retriever, _Question], _Question]) -> Stage:
    """A stage of one question at a time, run over every question asked together."""
    def each(retriever: Retriever, questions: list[_Question]) -> list[_Question]:
        return [stage(retriever, question) for question in questions]

    each.__name__ = each.__qualname__ = stage.__name__
    return each


def _encoded(retriever: Retriever, questions: list[_Question]) -> list[_Question]:
    """Every question's vector and stemmed words, and the vector of its copy without the names it capitalises: the
    copy _signals asks again when its first passages hold those names (most questions that name someone), guessed
    now so that one model call serves both. One model call and one tokenizer call for all the questions."""
    queries = [question.query for question in questions]
    guesses = [_guessed(query) for query in queries]
    reading = [_late_on(retriever, question.settings) for question in questions]
    encoded, pieces = _question_vectors(retriever, queries + [guess for guess in guesses if guess], len(queries),
                                        any(reading))
    vectors = iter(encoded)
    asked = [next(vectors) for _ in queries]
    terms = retriever.index.terms_many(queries)
    return [replace(question, vector=vector, terms=words, guessed=guess,
                    guessed_vector=next(vectors) if guess else None, tokens=pieces[i] if reading[i] else None)
            for i, (question, vector, words, guess) in enumerate(zip(questions, asked, terms, guesses, strict=True))]


def _candidates(retriever: Retriever, questions: list[_Question]) -> list[_Question]:
    """The top max(CANDIDATES, k) rows of each question by passage vector, by sentence vector and by BM25, pooled;
    one search of each kind for all the questions wanting as many."""
    found = _pooled_many(retriever, np.stack([question.vector for question in questions]),
                         [question.terms for question in questions],
                         [max(CANDIDATES, question.k) for question in questions])
    return [replace(question, found=each) for question, each in zip(questions, found, strict=True)]


def _fused(retriever: Retriever, question: _Question) -> _Question:
    """Each candidate's score under the mode (dense, BM25 or their fusion), and the candidates best first."""
    ranking = _rank(question.found, question.settings)
    return replace(question, ranking=ranking, order=_best_first(ranking))


def _cross_encoded(retriever: Retriever, question: _Question) -> _Question:
    """The first `rerank_depth` candidates re-ordered by the cross-encoder, when one is configured."""
    order = question.order
    if retriever.reranker is None or not len(order):
        return question
    head = order[:question.settings.rerank_depth]
    texts = [retriever._location(int(question.found.rows[position])).passage.text for position in head]
    scores = retriever.reranker.scores(question.query, texts)
    return replace(question, order=np.concatenate([head[np.argsort(-scores, kind="stable")], order[len(head):]]))


def _distinct(retriever: Retriever, question: _Question) -> _Question:
    """The first max(k, JUDGED) candidates in order that are not copies of one before, each with its duplicate
    group (every row holding the same text, the one shown first)."""
    found, order, ranking, index = question.found, question.order, question.ranking, retriever.index
    depth = max(question.k, JUDGED, question.settings.late_depth if _late_on(retriever, question.settings) else 0)
    distinct: list[_Distinct] = []
    at = {int(row): position for position, row in enumerate(found.rows.tolist())}
    seen: set[int] = set()
    texts: set[str] = set()  # the same words twice in one source are not grouped as copies, but read as such
    # the passages likely wanted, asked for at once: a store that fetches them (Milvus) then has them at hand
    index.passages_at(found.rows[order[:LOOKED_UP * depth]].tolist())
    for position in order.tolist():
        if len(distinct) == depth:
            break
        row = int(found.rows[position])
        text = retriever._location(row).passage.text
        if row in seen or text in texts:
            continue
        group = index.copies_of(row)
        seen.update(group)
        texts.add(text)
        # of copies scored alike but for rounding (which two stores round alike only by luck), the first in
        # the index is the one shown, whichever store holds it
        row = min(other for other in group if other == row or (
            other in at and ranking[at[other]] >= ranking[position] - SAME_SCORE))
        distinct.append(_Distinct(at.get(row, position), [row, *(other for other in group if other != row)]))
    return replace(question, distinct=distinct)


def _late_read(retriever: Retriever, questions: list[_Question]) -> list[_Question]:
    """The first `late_depth` distinct passages of each question re-ordered by the blend (fitted by `calibrate`) of
    their fused score and their MaxSim (_late_orders). Trimmed back to max(k, JUDGED) passages."""
    reading = [question for question in questions if _late_on(retriever, question.settings)]
    if not reading:
        return questions
    heads = [question.distinct[:question.settings.late_depth] for question in reading]
    orders = _late_orders(retriever, [
        (question.query, question.tokens, [each.rows[0] for each in head],
         question.ranking[np.array([each.position for each in head], dtype=np.int64)])
        for question, head in zip(reading, heads, strict=True)])
    read: dict[int, _Question] = {}
    for question, head, (order, scores) in zip(reading, heads, orders, strict=True):
        distinct = [head[i] for i in order] + question.distinct[len(head):]
        matched = np.concatenate([scores[order], np.full(len(question.distinct) - len(head), scores.min())])
        depth = max(question.k, JUDGED)
        read[id(question)] = replace(question, distinct=distinct[:depth], late=matched[:depth])
    return [read.get(id(question), question) for question in questions]


def _late_orders(retriever: Retriever, asked: list[tuple[str, np.ndarray, list[int], np.ndarray]],
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each question (its text, its token vectors, the rows of its first passages and their fused scores): the
    order late interaction gives those passages, and each one's MaxSim, its best sentence's: each of the question's
    word pieces' best cosine to any of the sentence's, weighted by the BM25 idf of the word it is part of
    (punctuation and BM25's stopwords weigh nothing). Every passage whose token vectors the index did not keep and
    that is not remembered is read in one model call, and their sentences in one tokenizer call."""
    rows = [row for _, _, head, _ in asked for row in head]
    passages = retriever.index.passages_at(rows)  # in one lookup: a store such as Milvus fetches them together
    texts = [retriever._indexed_text(passage) for passage in passages]
    tokens = iter(retriever.late.passages(texts, retriever.index.token_vectors_of(rows)))
    sentences = iter(_sentences_read(retriever, rows, passages, texts))
    orders = []
    for query, pieces, head, fused in asked:
        weights = _word_weights(retriever, retriever.late.words(query))
        scores = maxsim(pieces, [next(tokens) for _ in head], weights, [next(sentences) for _ in head])
        orders.append((blend(fused, scores, retriever.late_blend), scores))
    return orders


def _sentences_read(retriever: Retriever, rows: list[int], passages: list[Passage],
                    texts: list[str]) -> list[np.ndarray]:
    """Each row's tokens' sentences (store/tokens.py's sentence_of_tokens): as the index kept them, else read with
    the tokenizer's offsets over the text the index embedded (`texts`) and the index's sentences of its passage
    (`passages`), which that text holds after its title when it leads with one."""
    found = retriever.index.token_sentences_of(rows)  # kept by the build with the token vectors
    unread = [i for i, each in enumerate(found) if each is None]
    if unread:
        table = retriever.index.sentences_of(np.array([rows[i] for i in unread], dtype=np.int64))
        offsets = retriever.late.offsets([texts[i] for i in unread])
        for at, (i, each) in enumerate(zip(unread, offsets, strict=True)):
            found[i] = sentence_of_tokens(each, table.spans[table.of(at), 0].astype(np.int64),
                                          len(texts[i]) - len(passages[i].text))
    return found


def _late_on(retriever: Retriever, settings: SearchSettings) -> bool:
    """Whether late interaction re-reads a question's first passages: with it on, a model that gives token
    vectors, and no cross-encoder, which reads question and passage together and whose order it would undo."""
    return settings.late_interaction and retriever.late is not None and retriever.reranker is None


def _question_vectors(retriever: Retriever, texts: list[str], asked: int,
                      late: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """The texts' vectors, and with `late` the token vectors of the first `asked` (the questions themselves): from
    the same run where the encoder of questions gives them, else (an encoder that gives none) from the passages'
    model, which reads them again."""
    if late and isinstance(retriever.questions, TokenEncoder):
        vectors, tokens = retriever.questions.encode_with_tokens(texts)
        return vectors, tokens[:asked]
    vectors = retriever.questions.encode(texts)
    return vectors, retriever.late.encoder.token_vectors(texts[:asked]) if late else []


def _word_weights(retriever: Retriever, words: list[str]) -> np.ndarray:
    """Each word's BM25 idf in the index (its highest over the stemmed terms it makes; 0 for a stopword)."""
    terms = retriever.index.terms_many(words) if words else []
    statistics = retriever.index.word_statistics(set().union(*terms)) if terms else None
    return np.array([max((statistics.idf(term) for term in each), default=0.0) for each in terms])


def _signals(retriever: Retriever, questions: list[_Question]) -> list[_Question]:
    """What the gate and the cut read of each question's distinct passages; the questions that name what their
    first passages name are asked again without those names, all in one model call."""
    unnamed = [_unnamed(retriever, question) for question in questions]
    changed = {i: text for i, (question, text) in enumerate(zip(questions, unnamed, strict=True))
               if text and text != question.query}
    guessed = {i: questions[i].guessed_vector for i, text in changed.items() if text == questions[i].guessed}
    missed = [i for i in changed if i not in guessed]
    again = guessed | (dict(zip(missed, retriever.questions.encode([changed[i] for i in missed]), strict=True))
                       if missed else {})
    judged = []
    for i, question in enumerate(questions):
        positions = np.array([each.position for each in question.distinct], dtype=np.int64)
        found, settings = question.found, question.settings
        dense = found.dense(settings)[positions]
        vector = again.get(i, question.vector)
        without = _dense_of(retriever, found.rows[positions], vector, settings) if i in again else dense
        signals = Signals(dense, found.lexical_share()[positions], without, question.ranking[positions],
                          float(vector @ retriever.index.centroid), question.late)
        judged.append(replace(question, signals=signals))
    return judged


def _answer_typed(retriever: Retriever, question: _Question) -> _Question:
    """Whether the question's wording asks for a kind of answer that the first passage's sentences sharing a word
    with it do not hold; read by the gate that late interaction's coefficients belong to, so only with those."""
    signals = question.signals
    if signals.late is None or not question.distinct:
        return question
    first = retriever._location(question.distinct[0].rows[0]).passage.text
    lacks = lacks_answer_type(question.query, [first], retriever.index.terms_many)
    return replace(question, signals=replace(signals, lacks_answer=lacks))


def _gate(retriever: Retriever, question: _Question) -> _Question:
    """The gate's probability that the sources answer the question, and each passage's probability of answering."""
    return replace(question, covered=question.signals.covered(), relevance=question.signals.answers())


def _cut(retriever: Retriever, question: _Question) -> _Question:
    """The hits at the places shown, best first, each with where else its text appears: with the gate, none unless
    the question is covered and the first passage clears the cosine floor, only the first when it clearly answers,
    else each of the first k likely enough to be related; without it, the first k."""
    shown = _shown(question) if question.gated else range(question.k)
    rows: list[int] = []
    hits: list[Hit] = []
    for at in shown:
        if at >= len(question.distinct):
            break
        position, group = question.distinct[at].position, question.distinct[at].rows
        place = retriever._location(group[0])
        hits.append(Hit(len(hits) + 1, float(question.ranking[position]), place.passage, place.source,
                        place.citation, float(question.found.cosine[position]), float(question.relevance[at]),
                        tuple(retriever._location(other) for other in group[1:])))
        rows.append(group[0])
    return replace(question, rows=rows, hits=hits)


def _highlighted(retriever: Retriever, questions: list[_Question]) -> list[_Question]:
    """Each hit with the sentence(s) closest to its question marked (by their stored vectors and the stemmed words
    the question shares with them), every sentence of every hit split into words in one tokenizer call."""
    wanted = [question for question in questions if question.highlight]
    if not wanted:
        return questions
    every_row = [row for question in wanted for row in question.rows]
    sentences = retriever.index.sentences_of(np.array(every_row, dtype=np.int64))
    at = iter(range(len(every_row)))
    picked = [[sentences.of(next(at)) for _ in question.rows] for question in wanted]
    spans = [[[tuple(span) for span in sentences.spans[which].tolist()] for which in rows] for rows in picked]
    texts = [text for question, of_hits in zip(wanted, spans, strict=True)
             for hit, of_hit in zip(question.hits, of_hits, strict=True)
             for text in [topic_of(hit), *(hit.text[a:b] for a, b in of_hit)]]
    said = iter(retriever.index.terms_many(texts))
    marked: dict[int, list[Hit]] = {}
    for question, rows, of_hits in zip(wanted, picked, spans, strict=True):
        hits = []
        for hit, which, of_hit in zip(question.hits, rows, of_hits, strict=True):
            topic = next(said)
            words = [next(said) for _ in of_hit]
            scores = sentence_scores(sentences.vectors[which] @ question.vector, words, question.terms, topic)
            hits.append(replace(hit, highlights=tuple(best_spans(of_hit, scores))))
        marked[id(question)] = hits
    return [replace(question, hits=marked[id(question)]) if id(question) in marked else question
            for question in questions]


_STAGES: tuple[Stage, ...] = (
    _encoded,
    _candidates,
    _each(_fused),
    _each(_cross_encoded),
    _each(_distinct),
    _late_read,
    _signals,
    _each(_answer_typed),
    _each(_gate),
    _each(_cut),
    _highlighted,
)


# --- what the stages share ---

def _pooled_many(retriever: Retriever, vectors: np.ndarray, terms: list[set[str]],
                 depths: list[int]) -> list[Candidates]:
    """Each question's candidates (its row of `vectors`, its stemmed `terms`): the top `depth` rows by passage
    vector, by sentence vector and by BM25, pooled, with one search per kind for the questions of one depth."""
    index = retriever.index
    found: list[Candidates | None] = [None] * len(depths)
    for depth in set(depths):
        which = [i for i, each in enumerate(depths) if each == depth]
        depth = min(depth, index.count)
        dense = index.nearest(vectors[which], depth)
        by_sentence = index.nearest_by_sentence(vectors[which], depth)
        lexical = index.lexical_hits([terms[i] for i in which], depth)
        for i, rows, sentence_rows, words in zip(which, dense, by_sentence, lexical, strict=True):
            found[i] = _pooled(index, vectors[i], rows, sentence_rows, words)
    return found


def _pooled(index: SearchIndex, vector: np.ndarray, dense_rows: np.ndarray, sentence_rows: np.ndarray,
            lexical: LexicalHits) -> Candidates:
    """The rows found by either kind of vector or by BM25, and all their scores."""
    rows = np.union1d(np.union1d(dense_rows, sentence_rows), lexical.top).astype(np.int64)
    if not len(rows):
        empty = np.zeros(0, dtype=np.float32)
        return Candidates(rows, empty, empty, empty, empty, lexical.ceiling)
    return Candidates(rows, index.cosines_of(rows, vector), index.context_cosines_of(rows, vector),
                      index.best_sentences_of(rows, vector), lexical.scores(rows), lexical.ceiling)


def _rank(found: Candidates, settings: SearchSettings) -> np.ndarray:
    """A score per candidate under the mode: dense score, BM25, or their fusion."""
    dense = found.dense(settings)
    if settings.mode == "dense":
        return dense
    if settings.mode == "lexical":
        return found.bm25
    if settings.fusion == "rrf":
        return reciprocal_rank(dense, found.bm25)
    return weighted(dense, found.bm25, settings.dense_weight)


def _best_first(ranking: np.ndarray) -> np.ndarray:
    """The positions of the scores, highest first (ties in row order)."""
    return np.argsort(-ranking, kind="stable")


def _guessed(query: str) -> str:
    """The question without the names it capitalises, or "" when that leaves it as it is (or leaves nothing)."""
    guess = without_names(query, names_asked(query))
    return guess if guess and guess != query else ""


def _unnamed(retriever: Retriever, question: _Question) -> str:
    """The question without the names its first JUDGED distinct passages hold."""
    texts = [retriever._location(each.rows[0]).passage.text for each in question.distinct[:JUDGED]]
    return without_names(question.query, names_in(texts, question.query))


def _dense_of(retriever: Retriever, rows: np.ndarray, vector: np.ndarray, settings: SearchSettings) -> np.ndarray:
    """The dense score of these rows for another vector, asking the store only for the cosines the settings
    read (on Milvus each is a call)."""
    index = retriever.index
    own = index.cosines_of(rows, vector)
    context = index.context_cosines_of(rows, vector) if settings.context_vectors else own
    sentence = index.best_sentences_of(rows, vector) if settings.sentence_vectors else own
    return dense_score(own, context, sentence, settings)


def _shown(question: _Question) -> list[int]:
    """Which of the distinct passages the gate lets through, by their place."""
    relevance, settings = question.relevance, question.settings
    if not len(relevance) or question.covered < settings.min_relevance \
            or question.signals.dense[0] < settings.min_score:
        return []
    if relevance[0] >= settings.clear:
        return [0]
    return [0, *(i for i in range(1, min(question.k, len(relevance))) if relevance[i] >= settings.related)]
