"""The service stays up for everyone while clients misbehave: half-sent requests are dropped at their deadline,
connections past the cap make room by dropping those that waited longest, requests in progress past the cap get
503 at once, and with a token only /health is open. Raw sockets on 127.0.0.1, bounded in count and time."""

from __future__ import annotations

import concurrent.futures
import json
import logging
import socket
import statistics
import time
import urllib.error
import urllib.request

import pytest

from retrieval import Retriever
from retrieval.service.client import RemoteRetriever, ServiceUnavailable

from ...conftest import REPORTS
from .conftest import HALF_SENT, ServiceThread, running_service

RESETTLED = "How many North Korean refugees has NAUH resettled?"


def half_sent(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.sendall(HALF_SENT)
        sockets.append(client)
    return sockets


def closed_by_server(client: socket.socket, within: float) -> bool:
    """Whether the server closed this connection within `within` seconds (it never answers a half request)."""
    client.settimeout(within)
    try:
        return client.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_request_that_does_not_arrive_in_time_is_dropped_even_if_it_trickles(fast_retriever: Retriever):
    with running_service(fast_retriever, request_timeout_seconds=0.5) as url:
        port = int(url.rsplit(":", 1)[1])
        silent = half_sent(port, 5)
        trickler = socket.create_connection(("127.0.0.1", port), timeout=5)
        started, cut_off = time.monotonic(), None
        for byte in HALF_SENT:  # a byte every 0.1 s: each would reset a timer that counts from the last byte
            try:
                trickler.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut_off = time.monotonic() - started
                break
            time.sleep(0.1)
        try:
            assert cut_off is not None and cut_off < 2  # 40 bytes would have taken 4 s
            assert all(closed_by_server(s, 3) for s in silent)
            assert status(f"{url}/health") == 200
        finally:
            for client in [*silent, trickler]:
                client.close()


def test_past_the_connection_cap_the_longest_waiting_make_room_and_health_answers(fast_retriever: Retriever):
    with running_service(fast_retriever, max_connections=20, request_timeout_seconds=60) as url:
        port = int(url.rsplit(":", 1)[1])
        held = half_sent(port, 60)
        try:
            assert status(f"{url}/health") == 200  # another client still gets in, and an answer
            dropped = [closed_by_server(s, 0.2) for s in held]
            assert sum(dropped) >= 40  # at most the cap stays open, long before any deadline
            assert dropped[:40] == [True] * 40  # the first sent are the ones that waited longest
        finally:
            for client in held:
                client.close()


def test_past_the_request_cap_a_request_gets_503_at_once(fast_retriever: Retriever, monkeypatch):
    answer_many = fast_retriever.answer_many

    def slow(*args, **kwargs):
        time.sleep(1.0)
        return answer_many(*args, **kwargs)

    monkeypatch.setattr(fast_retriever, "answer_many", slow)
    monkeypatch.setattr(fast_retriever, "answer", lambda *a, **k: slow([a[0]], [a[1] if len(a) > 1 else None])[0])
    with running_service(fast_retriever, max_requests=2) as url, \
            concurrent.futures.ThreadPoolExecutor(4) as pool:
        search = f"{url}/search?q=refugees"
        busy = [pool.submit(status, search) for _ in range(2)]
        time.sleep(0.3)  # both are in progress now
        started = time.monotonic()
        assert status(search) == 503
        assert time.monotonic() - started < 0.5  # refused at once, not queued
        assert [b.result() for b in busy] == [200, 200]


def test_with_a_token_only_health_is_open_and_the_token_is_never_logged(fast_retriever: Retriever,
                                                                       caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    token = "s3cret-token-for-tests"
    with running_service(fast_retriever, token=token) as url:
        search = f"{url}/search?q=refugees"
        assert status(search) == 401
        assert status(search, {"Authorization": "Bearer wrong"}) == 401
        assert status(search, {"Authorization": f"Bearer {token}"}) == 200
        assert status(f"{url}/health") == 200
        answered = RemoteRetriever([url], fast_retriever.settings, token=token).answer(RESETTLED)
        assert answered.hits[0].citation == fast_retriever.answer(RESETTLED).hits[0].citation
        with pytest.raises(ServiceUnavailable, match="RETRIEVAL_SERVICE_TOKEN"):
            RemoteRetriever([url], fast_retriever.settings).answer(RESETTLED)
    assert not any(token in r.getMessage() for r in caplog.records)


def test_a_refusal_names_what_is_needed(fast_retriever: Retriever):
    with running_service(fast_retriever, token="abc") as url:
        try:
            urllib.request.urlopen(f"{url}/sources", timeout=5)
        except urllib.error.HTTPError as error:
            assert error.code == 401 and error.headers["WWW-Authenticate"] == "Bearer"
            assert "bearer token" in json.loads(error.read())["error"]
        else:
            raise AssertionError("no refusal")


def test_a_thousand_half_sent_requests_leave_health_answering(fast_retriever: Retriever, pytestconfig):
    cap, held_count = 100, 1000
    service = ServiceThread(fast_retriever, max_connections=cap)
    held: list[socket.socket] = []
    try:
        started = time.monotonic()
        held = half_sent(service.port, held_count)
        opened = time.monotonic() - started
        latencies = []
        for _ in range(20):
            asked = time.monotonic()
            assert status(f"{service.url}/health") == 200
            latencies.append((time.monotonic() - asked) * 1000)
        assert len(service.server.server_state.connections) <= cap
    finally:
        for client in held:
            client.close()
        service.stop()
    pytestconfig.stash.setdefault(REPORTS, []).append((
        "service: 1,000 half-sent requests held open by one client",
        f"opened in {opened:.1f} s; server connections kept <= {cap}; /health meanwhile answered 20 of 20, "
        f"median {statistics.median(latencies):.1f} ms, slowest {max(latencies):.1f} ms"))
