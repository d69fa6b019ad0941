"""The library pool (retrieval/fair_pool.py): one key's jobs run in order, one at a time, and never hold up another
key's while a thread is free; a shutdown cancels what has not started and lets the running finish."""

from __future__ import annotations

import threading

import pytest

from retrieval.fair_pool import FairPool, PoolClosed

WAIT = 10  # seconds a test waits for what should take milliseconds: a bound, not a measure


def test_one_keys_queue_of_heavy_jobs_never_holds_up_another_keys_job():
    pool = FairPool(2, "test")
    release = threading.Event()
    order: list[str] = []

    def heavy(n: int) -> int:
        order.append(f"a{n} start")
        assert release.wait(WAIT)
        order.append(f"a{n} end")
        return n

    a_jobs = [pool.submit("a", heavy, n) for n in range(3)]
    b_job = pool.submit("b", order.append, "b")
    assert b_job.result(WAIT) is None  # done while a's first job is still running
    assert order == ["a0 start", "b"] and a_jobs[1].running() is False  # a's next waits for a's first
    release.set()
    assert [job.result(WAIT) for job in a_jobs] == [0, 1, 2]
    assert [step for step in order if step != "b"] == ["a0 start", "a0 end", "a1 start", "a1 end", "a2 start",
                                                      "a2 end"]  # a's jobs one at a time, in order
    pool.shutdown()


def test_a_key_that_just_had_its_turn_waits_behind_the_others():
    pool = FairPool(1, "test")
    gate = threading.Event()
    ran: list[str] = []
    pool.submit("a", gate.wait, WAIT)
    jobs = [pool.submit(key, ran.append, key) for key in ("a", "a", "b", "c")]
    gate.set()
    for job in jobs:
        job.result(WAIT)
    assert ran == ["b", "c", "a", "a"]  # a's turn was the gate: b and c, waiting meanwhile, go before a's next


def test_a_shutdown_cancels_what_has_not_started_and_lets_the_running_finish():
    pool = FairPool(1, "test")
    started, release = threading.Event(), threading.Event()

    def running() -> str:
        started.set()
        release.wait(WAIT)
        return "finished"

    first = pool.submit("a", running)
    queued = pool.submit("b", str, "never")
    assert started.wait(WAIT)
    threading.Timer(0.1, release.set).start()
    pool.shutdown(wait=True)
    assert first.result(0) == "finished" and queued.cancelled()
    with pytest.raises(PoolClosed):
        pool.submit("a", str)


def test_a_failing_job_fails_its_future_only():
    pool = FairPool(1, "test")
    failed = pool.submit("a", int, "not a number")
    assert pool.submit("a", int, "7").result(WAIT) == 7
    with pytest.raises(ValueError):
        failed.result(0)
    pool.shutdown()
