"""The retrieval service on a real uvicorn server on 127.0.0.1: the command line's JSON over HTTP, health and
Prometheus metrics; bad requests get a 4xx with a message."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from retrieval import RetrievalConfig, Retriever, open_retriever
from retrieval.benchmarks.milvus_lite import MilvusServer
from retrieval.service.payloads import sources_json

from ...conftest import SEEDS
from ...encoders import WordHashEncoder
from .conftest import running_service

RESETTLED = "How many North Korean refugees has NAUH resettled?"


@pytest.fixture
def service(fast_retriever: Retriever) -> Iterator[str]:
    with running_service(fast_retriever) as url:
        yield url


def get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read()
            status = response.status
            kind = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        body, status, kind = error.read(), error.code, error.headers.get("Content-Type", "")
    return status, json.loads(body) if kind.startswith("application/json") else body.decode()


def test_search_answers_with_the_command_lines_json(service: str, fast_retriever: Retriever):
    status, answer = get(f"{service}/search?" + urllib.parse.urlencode({"q": RESETTLED, "k": 2}))
    assert status == 200
    expected = fast_retriever.answer(RESETTLED, 2).to_dict()
    assert {k: v for k, v in answer.items() if k != "took_ms"} == {k: v for k, v in expected.items()
                                                                    if k != "took_ms"}


def test_sources_source_and_health(service: str, fast_retriever: Retriever):
    assert get(f"{service}/sources") == (200, sources_json(fast_retriever))
    status, park = get(f"{service}/sources/park-hero")
    assert status == 200 and park["source"]["author"] == "Robert Park" and park["passages"][0]["paragraph"] == 1
    status, health = get(f"{service}/health")
    assert status == 200 and health["status"] == "ok" and health["sources"] == 3


def test_bad_requests_get_a_message(service: str):
    status, body = get(f"{service}/search?q=")
    assert status == 400 and body["error"] == "the question is empty; ask something about the sources"
    status, body = get(f"{service}/search?" + urllib.parse.urlencode({"q": RESETTLED, "k": 0}))
    assert status == 400 and "k must be between 1 and" in body["error"]
    status, body = get(f"{service}/sources/nope")
    assert status == 404 and "nope" in body["error"]


def test_metrics_count_questions_and_not_covered(service: str):
    for _ in range(3):
        get(f"{service}/search?" + urllib.parse.urlencode({"q": RESETTLED}))
    get(f"{service}/search?q=")
    status, text = get(f"{service}/metrics")
    assert status == 200
    assert "retrieval_questions_total 3.0" in text
    assert 'retrieval_errors_total{kind="refused"} 1.0' in text
    assert "retrieval_search_seconds_count 3.0" in text and "retrieval_not_covered_total" in text


def test_a_store_outage_is_a_503_that_does_not_name_the_store(tmp_path, caplog):
    with MilvusServer(tmp_path / "milvus") as server:
        config = RetrievalConfig(sources=SEEDS, store="milvus", milvus_uri=server.url)
        retriever = open_retriever(config, progress=False, encoder=WordHashEncoder())
    with running_service(retriever) as url:  # Milvus is down from here on
        code, body = get(f"{url}/search?q={urllib.parse.quote(RESETTLED)}")
    assert code == 503 and "127.0.0.1" not in json.dumps(body)
    assert any(server.url in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
