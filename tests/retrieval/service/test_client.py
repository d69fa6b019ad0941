"""A program (the bot) asks retrieval services over HTTP as it would ask its own Retriever; when a replica
fails, the next one answers, and only when none can is the failure raised."""

from __future__ import annotations

from dataclasses import replace

import pytest

from retrieval import QueryError, RetrievalError, Retriever
from retrieval.benchmarks.milvus_lite import free_port
from retrieval.service.client import RemoteRetriever, ServiceUnavailable

from .conftest import running_service

RESETTLED = "How many North Korean refugees has NAUH resettled?"


def test_answers_sources_and_passages_are_the_local_ones(fast_retriever: Retriever):
    with running_service(fast_retriever) as url:
        remote = RemoteRetriever([url], fast_retriever.settings)
        answer, local = remote.answer(RESETTLED, 2), fast_retriever.answer(RESETTLED, 2)
        assert [h.to_dict() for h in answer.hits] == [h.to_dict() for h in local.hits]
        assert answer.relevance == pytest.approx(local.relevance, abs=1e-4) and answer.covered
        assert remote.sources == fast_retriever.sources
        assert remote.passages_of("park-hero") == fast_retriever.passages_of("park-hero")
        assert remote.answerable_count("park-hero") == fast_retriever.answerable_count("park-hero")
        with pytest.raises(RetrievalError, match="unknown source id 'nope'"):
            remote.source("nope")
        with pytest.raises(QueryError, match="the question is empty"):
            remote.answer("   ")


def test_a_stricter_threshold_turns_a_weak_answer_into_not_covered_as_locally(fast_retriever: Retriever):
    question = "Tell me about football"  # the word-hash stand-in finds it something, at a relevance near 1
    local = fast_retriever.answer(question)
    assert local.covered and local.relevance < 0.9995  # the service gives relevance to four decimals
    strict = replace(fast_retriever.settings, min_relevance=(local.relevance + 1) / 2)  # just out of its reach
    with running_service(fast_retriever) as url:
        remote = RemoteRetriever([url], fast_retriever.settings)
        assert remote.answer(question).covered
        answer = remote.answer(question, None, strict)
    assert not answer.covered and not fast_retriever.answer(question, None, strict).covered


def test_a_replica_that_goes_down_is_replaced_by_the_next(fast_retriever: Retriever, caplog):
    with running_service(fast_retriever) as first, running_service(fast_retriever) as second:
        remote = RemoteRetriever([first, second], fast_retriever.settings)
        assert all(remote.answer(RESETTLED).covered for _ in range(4))  # both in turn
        with running_service(fast_retriever):
            pass
    dead = f"http://127.0.0.1:{free_port()}"
    with running_service(fast_retriever) as alive:
        remote = RemoteRetriever([dead, alive], fast_retriever.settings)
        answers = [remote.answer(RESETTLED) for _ in range(6)]  # every other request starts at the dead one
    assert all(a.covered for a in answers)
    assert any("failed" in r.getMessage() and dead in r.getMessage() for r in caplog.records)


def test_no_replica_answering_is_one_clear_error(fast_retriever: Retriever):
    remote = RemoteRetriever([f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"],
                             fast_retriever.settings, timeout=2)
    with pytest.raises(ServiceUnavailable, match=r"no retrieval service answered .*check that they run"):
        remote.answer(RESETTLED)
