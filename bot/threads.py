"""Threads the bot answered in, each with the last question searched there, so a follow-up needs no mention
and borrows the question it follows."""

from __future__ import annotations

from collections import OrderedDict

REMEMBERED_THREADS = 1000  # the most recently answered threads; an older one needs a mention again


class ThreadMemory:
    """A bounded map of thread id to the last question searched in it, least recently answered dropped first.
    It lives in memory: after a restart, follow-ups in old threads need a mention (or a question channel)."""

    def __init__(self, size: int = REMEMBERED_THREADS) -> None:
        self.size = size
        self.last: OrderedDict[int, str] = OrderedDict()

    def remember(self, thread_id: int, question: str) -> None:
        self.last[thread_id] = question
        self.last.move_to_end(thread_id)
        while len(self.last) > self.size:
            self.last.popitem(last=False)

    def previous(self, thread_id: int) -> str | None:
        return self.last.get(thread_id)

    def __contains__(self, thread_id: int) -> bool:
        return thread_id in self.last
