"""The worker pool and the adaptive limit on requests in flight (AIMD under 429s)."""
from __future__ import annotations

import threading

import pytest

from dubber.translate.pool import AdaptiveLimit, DaemonPool
from dubber.translate.retry import Stopped


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0  # every reading is a later moment
        return self.now


def test_a_429_halves_the_limit_once_per_round_trip():
    limit, stop = AdaptiveLimit(8, clock=Clock()), threading.Event()
    started = [limit.acquire(stop) for _ in range(8)]  # eight requests under way
    limit.release(started[0], rate_limited=True)
    assert limit.limit == 4
    for s in started[1:5]:  # 429s for requests sent before that cut: no further cut
        limit.release(s, rate_limited=True)
    assert limit.limit == 4 and limit.stats.cuts == 1
    later = limit.acquire(stop)  # sent after the cut, and still limited: cut again
    limit.release(later, rate_limited=True)
    assert limit.limit == 2 and limit.stats.lowest == 2 and limit.stats.cuts == 2


def test_successes_grow_the_limit_by_one_per_limit_successes_up_to_the_ceiling():
    limit, stop = AdaptiveLimit(4, clock=Clock()), threading.Event()
    limit.release(limit.acquire(stop), rate_limited=True)
    limit.release(limit.acquire(stop), rate_limited=True)
    assert limit.limit == 1
    grown = []
    for _ in range(20):
        limit.release(limit.acquire(stop), rate_limited=False)
        grown.append(limit.limit)
    assert grown[:6] == [2, 2, 3, 3, 3, 4] and max(grown) == 4 == limit.ceiling


def test_never_below_one_and_a_waiting_acquire_ends_when_the_run_stops():
    limit, stop = AdaptiveLimit(1, clock=Clock()), threading.Event()
    held = limit.acquire(stop)
    limit.release(held, rate_limited=True)
    assert limit.limit == 1
    limit.acquire(stop)  # the one place is taken
    threading.Timer(0.1, stop.set).start()
    with pytest.raises(Stopped):
        limit.acquire(stop)


def test_daemon_pool_runs_in_order_with_one_worker_and_cancels_what_has_not_started():
    pool, seen, gate, running = DaemonPool(1), [], threading.Event(), threading.Event()
    first = pool.submit(lambda: running.set() or (gate.wait(5) and seen.append("first")))
    rest = [pool.submit(seen.append, i) for i in range(3)]
    assert running.wait(5)
    pool.shutdown(cancel=True)  # the first is under way: it finishes; the rest never start
    gate.set()
    first.result(timeout=5)
    assert seen == ["first"] and all(f.cancelled() for f in rest)
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("window-"))


def test_daemon_pool_hands_errors_to_the_waiter():
    pool = DaemonPool(2)
    future = pool.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        future.result(timeout=5)
    pool.shutdown()
