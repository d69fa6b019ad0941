"""Questions answered together give exactly the answers they get alone; a bad one fails only itself."""

from __future__ import annotations

import threading
import time

import pytest

from retrieval import QueryError, Retriever
from retrieval.search.batching import Batcher
from retrieval.settings import ServeSettings

QUESTIONS = ["How many North Korean refugees has NAUH resettled?", "Who founded NAUH?", "Where is NAUH based?",
             "What did Moon Jae-in promise?", "Why do defectors care about people still in North Korea?",
             "Zxqv frindle?", "What is the Jangmadang?", "When was Ji interviewed by the Freedom Collection?"]


def same(a, b) -> bool:
    return (a.query, [h.to_dict() for h in a.hits], round(a.relevance, 6), a.k) == \
        (b.query, [h.to_dict() for h in b.hits], round(b.relevance, 6), b.k)


def test_answer_many_gives_what_each_question_gets_alone(fast_retriever: Retriever):
    together = fast_retriever.answer_many(QUESTIONS, [3, 1, 5, 3, 2, 3, 10, 3])
    alone = [fast_retriever.answer(q, k) for q, k in zip(QUESTIONS, [3, 1, 5, 3, 2, 3, 10, 3], strict=True)]
    assert all(same(a, b) for a, b in zip(together, alone, strict=True))


def test_the_batcher_answers_concurrent_askers_as_alone(fast_retriever: Retriever):
    results: dict[int, object] = {}
    with Batcher(fast_retriever, ServeSettings(max_batch=4, max_wait_ms=20)) as batcher:
        def ask(n: int) -> None:
            results[n] = batcher.submit(QUESTIONS[n % len(QUESTIONS)]).result(timeout=10)
        threads = [threading.Thread(target=ask, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert all(same(results[n], fast_retriever.answer(QUESTIONS[n % len(QUESTIONS)])) for n in range(24))


def test_a_bad_question_fails_its_own_future_only(fast_retriever: Retriever):
    with Batcher(fast_retriever) as batcher:
        bad, good = batcher.submit(""), batcher.submit(QUESTIONS[0])
        with pytest.raises(QueryError, match="the question is empty"):
            bad.result(timeout=10)
        assert good.result(timeout=10).hits


def test_a_lone_question_waits_no_longer_than_max_wait(fast_retriever: Retriever):
    with Batcher(fast_retriever, ServeSettings(max_wait_ms=300)) as batcher:
        batcher.submit(QUESTIONS[0]).result(timeout=10)  # warm
        start = time.perf_counter()
        batcher.submit(QUESTIONS[1]).result(timeout=10)
        waited = time.perf_counter() - start
    assert 0.3 <= waited < 2.0  # it waited for company, then went alone
