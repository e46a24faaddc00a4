"""The account of a cluster run: the ledger (``ledger``) held by one Ray actor, and ``ClusterAccount``, the
client every worker's fetch uses as its ``translate.fetch.Account``.

The client travels inside a job as the actor's name only, and finds the actor on first use in the worker
process. That process then beats (every ``lease_s / 4``) while it lives: a worker killed mid-request stops
beating, and once its lease runs out, the slots and claims it held go back to the others.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from dubber.engine.ledger import LEASE_S, Books, Ledger
from dubber.translate.pool import LimitStats
from dubber.translate.retry import Stopped

log = logging.getLogger(__name__)

NAMESPACE = "dubber"
WAIT_S = 1.0  # the longest one call waits for a slot: a stopping run is noticed within it


class AccountActor:
    """The ledger behind async methods: a call waiting for a slot holds no thread of the actor."""

    def __init__(self, ceiling: int, lease_s: float = LEASE_S) -> None:
        self.ledger = Ledger(ceiling, lease_s)
        self.freed = asyncio.Condition()

    async def acquire(self, holder: str, wait_s: float = WAIT_S) -> tuple[int, int] | None:
        """A slot's ticket and the limit now, or None if none came free within ``wait_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while (ticket := self.ledger.take(holder)) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            async with self.freed:
                try:  # a lease may run out meanwhile: look again at least each second
                    await asyncio.wait_for(self.freed.wait(), min(remaining, 1.0))
                except asyncio.TimeoutError:
                    pass
        return ticket, self.ledger.rule.limit

    async def release(self, ticket: int, rate_limited: bool) -> int:
        self.ledger.give_back(ticket, rate_limited)
        async with self.freed:
            self.freed.notify_all()
        return self.ledger.rule.limit

    async def claim(self, holder: str, key: str) -> bool:
        return self.ledger.claim(holder, key)

    async def unclaim(self, holder: str, key: str) -> None:
        self.ledger.unclaim(holder, key)

    async def beat(self, holder: str) -> None:
        self.ledger.beat(holder)

    async def books(self) -> Books:
        return self.ledger.books()


_HOLDER = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:6]}"  # this process, as the ledger knows it
_hearts: dict[str, threading.Thread] = {}
_hearts_lock = threading.Lock()


@functools.lru_cache(maxsize=16)  # looked up once a process: a lookup is a round trip to the cluster's GCS
def _actor(name: str) -> Any:
    import ray

    return ray.get_actor(name, namespace=NAMESPACE)


def _beat_forever(name: str, every_s: float) -> None:
    """Beat until the account's actor is gone (its batch is over: a worker process outlives its batches)."""
    import ray
    from ray.exceptions import GetTimeoutError

    actor = _actor(name)
    while True:
        try:
            ray.get(actor.beat.remote(_HOLDER), timeout=every_s)
        except GetTimeoutError:  # a busy actor: the next beat will do
            continue
        except Exception:  # the batch is over, its actor gone: nothing left to keep alive
            return
        threading.Event().wait(every_s)


def _keep_alive(name: str, lease_s: float) -> None:
    """Start this process's heartbeat for account ``name`` (once a process)."""
    with _hearts_lock:
        if name not in _hearts:
            heart = threading.Thread(target=_beat_forever, args=(name, lease_s / 4), name="dubber-lease",
                                     daemon=True)
            heart.start()
            _hearts[name] = heart


@dataclass(frozen=True)
class ClusterAccount:
    """``translate.fetch.Account`` for a cluster run: the actor named ``name`` keeps the books."""

    name: str
    lease_s: float = LEASE_S

    def _call(self, method: str, *args: Any) -> Any:
        import ray

        _keep_alive(self.name, self.lease_s)
        return ray.get(getattr(_actor(self.name), method).remote(*args))

    def limit(self, ceiling: int) -> "ClusterLimit":
        return ClusterLimit(self, ceiling)

    def claim(self, key: str) -> bool:
        return self._call("claim", _HOLDER, key)

    def unclaim(self, key: str) -> None:
        self._call("unclaim", _HOLDER, key)


class ClusterLimit:
    """``translate.fetch.Limit`` over the cluster: each request takes a slot from the account's actor."""

    def __init__(self, account: ClusterAccount, ceiling: int) -> None:
        self.account = account
        self.stats = LimitStats(lowest=ceiling, cuts=0)  # as this worker saw the account's limit

    def acquire(self, stop: threading.Event) -> int:
        while (got := self.account._call("acquire", _HOLDER, WAIT_S)) is None:
            if stop.is_set():
                raise Stopped("stopped before this window was sent")
        ticket, limit = got
        self._saw(limit, cut=False)
        return ticket

    def release(self, ticket: int, rate_limited: bool) -> None:
        self._saw(self.account._call("release", ticket, rate_limited), cut=rate_limited)

    def _saw(self, limit: int, cut: bool) -> None:
        self.stats.lowest = min(self.stats.lowest, limit)
        self.stats.cuts += cut
