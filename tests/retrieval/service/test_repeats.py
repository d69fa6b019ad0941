"""A flood of one error is logged once a minute with a count of what was held back; other lines, and INFO, pass."""

from __future__ import annotations

import io
import logging

import pytest

from retrieval.service.repeats import KINDS, SERVICE_LOGGERS, RepeatFilter, quiet_repeats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logged() -> tuple[logging.Logger, io.StringIO, Clock, RepeatFilter]:
    out, clock = io.StringIO(), Clock()
    handler = logging.StreamHandler(out)
    repeats = RepeatFilter(clock=clock)
    handler.addFilter(repeats)
    logger = logging.getLogger("tests.repeats")
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    yield logger, out, clock, repeats
    logger.handlers = []


def out_of_files(logger: logging.Logger, port: int) -> None:
    try:
        raise OSError(24, "Too many open files")
    except OSError:
        logger.exception("socket.accept() out of system resource (client port %d)", port)


def test_ten_thousand_repeats_write_one_line_then_a_count(logged):
    logger, out, clock, _ = logged
    for port in range(10_000):
        out_of_files(logger, port)
        clock.now += 0.001
    logger.error("the store at %s is unavailable", "127.0.0.1:19530")  # another kind of line: let through
    clock.now += 60
    out_of_files(logger, 10_000)
    lines = [line for line in out.getvalue().splitlines() if not line.startswith(("Traceback", "  ", "OSError"))]
    assert lines == ["socket.accept() out of system resource (client port 0)",
                     "the store at 127.0.0.1:19530 is unavailable",
                     "socket.accept() out of system resource (client port 10000) [9,999 more like this held back "
                     "since the last one logged]"]
    assert out.getvalue().count("Traceback") == 2


def test_the_count_of_lines_held_back_comes_with_the_next_line_let_through(logged):
    logger, out, clock, _ = logged
    for _ in range(5):
        logger.warning("slow client dropped")
    clock.now += 61
    logger.warning("slow client dropped")
    assert out.getvalue().splitlines() == [
        "slow client dropped",
        "slow client dropped [4 more like this held back since the last one logged]"]


def test_info_lines_pass_and_the_kinds_remembered_are_capped(logged):
    logger, out, _, repeats = logged
    for _ in range(3):
        logger.info("GET /health 200")
    for kind in range(KINDS * 2):
        logger.warning(f"a message with a detail of its own: {kind}")
    assert out.getvalue().count("GET /health 200") == 3
    assert len(repeats.seen) == KINDS


def test_the_service_filters_uvicorns_handlers_and_the_last_resort():
    assert "uvicorn.error" in SERVICE_LOGGERS
    handler = logging.StreamHandler(io.StringIO())
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        repeats = quiet_repeats(("uvicorn.error",))  # not the root logger's handlers: pytest's own are there
        assert repeats in handler.filters and repeats in logging.lastResort.filters
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
        for each in (handler, logging.lastResort):
            each.removeFilter(repeats)
