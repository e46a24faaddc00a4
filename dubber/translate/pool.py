"""Where window requests run: a few daemon worker threads, and an adaptive limit on requests in flight.

Daemon threads, unlike ``ThreadPoolExecutor``'s, are not joined when the interpreter exits: on Ctrl-C the
run ends at once even while a slow answer is still streaming (its answer is dropped; the cache stays
consistent because entries are renamed into place whole, and a killed write's ``.part`` is tidied later).

``AdaptiveLimit`` keeps the number of requests in flight under an account's rate limit: additive
increase, multiplicative decrease, as TCP does. A 429 halves the limit (once per round trip: 429s for
requests sent before the last cut do not cut it again); each run of ``limit`` successes in a row raises
it by one, up to the ceiling (``--jobs``).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from dubber.translate.retry import Stopped

log = logging.getLogger(__name__)


class DaemonPool:
    """``workers`` daemon threads running submitted calls in submission order (one worker: strictly in
    order). ``shutdown(cancel=True)`` cancels what has not started."""

    def __init__(self, workers: int, name: str = "window") -> None:
        self._queue: queue.SimpleQueue[tuple[Future, Callable[..., Any], tuple] | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        self._queue.put((future, call, args))
        return future

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, call, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call(*args))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

    def shutdown(self, cancel: bool = False) -> None:
        """Let the workers end once the queue is drained (``cancel``: drop what has not started); never
        waits for a call under way."""
        if cancel:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in self._threads:
            self._queue.put(None)


@dataclass
class LimitStats:
    lowest: int  # the fewest requests allowed in flight during the run
    cuts: int  # how many times a 429 cut the limit


class Aimd:
    """The rule alone, with no waiting: how many requests may be in flight, and how each answer moves it
    (shared by ``AdaptiveLimit`` in one process and the cluster's account actor, ``dubber.engine``)."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = self.ceiling
        self.stats = LimitStats(lowest=self.ceiling, cuts=0)
        self._successes = 0
        self._last_cut = float("-inf")

    def answered(self, started: float, rate_limited: bool, now: float) -> None:
        """A request sent at ``started`` has its answer at ``now``: a 429 or not."""
        if rate_limited:
            self._successes = 0
            if started >= self._last_cut:  # sent after the last cut: the cut was not enough
                self.limit = max(1, self.limit // 2)
                self._last_cut = now
                self.stats.cuts += 1
                self.stats.lowest = min(self.stats.lowest, self.limit)
                log.info("rate limited: at most %d requests in flight now", self.limit)
        else:
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.ceiling:
                self.limit += 1
                self._successes = 0


class AdaptiveLimit:
    """At most ``limit`` calls in flight, adapting to 429s (see the module docstring)."""

    def __init__(self, ceiling: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rule = Aimd(ceiling)
        self._in_flight = 0
        self._clock = clock
        self._cond = threading.Condition()

    @property
    def limit(self) -> int:
        return self.rule.limit

    @property
    def ceiling(self) -> int:
        return self.rule.ceiling

    @property
    def stats(self) -> LimitStats:
        return self.rule.stats

    def acquire(self, stop: threading.Event) -> float:
        """Wait for a place; returns the time the call starts (hand it back to ``release``)."""
        with self._cond:
            while self._in_flight >= self.rule.limit:
                if stop.is_set():
                    raise Stopped("stopped before this window was sent")
                self._cond.wait(0.1)
            self._in_flight += 1
            return self._clock()

    def release(self, started: float, rate_limited: bool) -> None:
        with self._cond:
            self._in_flight -= 1
            self.rule.answered(started, rate_limited, self._clock())
            self._cond.notify_all()


class Limit(Protocol):
    """How many requests may be in flight (``AdaptiveLimit``, or a whole cluster's)."""

    stats: LimitStats

    def acquire(self, stop: threading.Event) -> Any: ...
    def release(self, token: Any, rate_limited: bool) -> None: ...


class Account(Protocol):
    """An account's requests shared with other processes (``dubber.engine``): one limit of requests in
    flight for all of them, and claims, so that no two pay for the same window at once."""

    def limit(self, ceiling: int) -> Limit: ...
    def claim(self, key: str) -> bool: ...
    def unclaim(self, key: str) -> None: ...
