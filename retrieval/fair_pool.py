"""A bounded pool of threads with a queue for each key (each server): callables in, futures out. A key's jobs run
one at a time, in the order given; a free thread takes the key that has waited longest, so one key's heavy job
(or a hundred of them) never holds up another key's small one while the pool has a thread to spare."""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any


class PoolClosed(RuntimeError):
    """A job was given to a pool that has been shut down."""


class FairPool:
    """`workers` threads named `name`-N; `submit(key, fn, *args)` queues a job behind the key's own."""

    def __init__(self, workers: int, name: str) -> None:
        self.queues: dict[Hashable, deque[tuple[Future, Callable[[], Any]]]] = {}
        self.ready: deque[Hashable] = deque()  # keys with a job queued and none running, longest waiting first
        self.running: set[Hashable] = set()
        self.changed = threading.Condition()
        self.closed = False
        # daemon: a pool nobody shut down must not keep the interpreter alive; `shutdown` joins them
        self.threads = [threading.Thread(target=self.work, name=f"{name}-{n}", daemon=True) for n in range(workers)]
        for thread in self.threads:
            thread.start()

    def submit(self, key: Hashable, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        with self.changed:
            if self.closed:
                raise PoolClosed("the library pool is shut down: the bot is stopping")
            queue = self.queues.setdefault(key, deque())
            queue.append((future, functools.partial(fn, *args, **kwargs)))
            if len(queue) == 1 and key not in self.running:
                self.ready.append(key)
                self.changed.notify()
        return future

    def work(self) -> None:
        while True:
            with self.changed:
                while not self.ready and not self.closed:
                    self.changed.wait()
                if not self.ready:
                    return
                key = self.ready.popleft()
                future, job = self.queues[key].popleft()
                self.running.add(key)
            if future.set_running_or_notify_cancel():
                try:
                    result = job()
                except BaseException as error:  # the caller's to handle, through its future
                    future.set_exception(error)
                else:
                    future.set_result(result)
            with self.changed:
                self.running.discard(key)
                if self.queues.get(key):
                    self.ready.append(key)  # behind every key already waiting: the fair turn
                    self.changed.notify()
                else:
                    self.queues.pop(key, None)

    def shutdown(self, wait: bool = True, cancel_queued: bool = True) -> None:
        """Take no more jobs; cancel those not started (with `cancel_queued`), and with `wait` let the running
        ones (and, without `cancel_queued`, the queued ones) finish."""
        with self.changed:
            self.closed = True
            if cancel_queued:
                for queue in self.queues.values():
                    for future, _ in queue:
                        future.cancel()
                    queue.clear()
                self.ready.clear()
            self.changed.notify_all()
        if wait:
            for thread in self.threads:
                if thread is not threading.current_thread():
                    thread.join()
