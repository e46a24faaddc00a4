"""The account's books, kept by one process for a whole cluster (``account``): pure, and timed by a clock
given to it, so its rules are tested without a cluster.

- **Slots.** At most ``limit`` requests in flight over every worker; the limit follows the same AIMD rule
  as one process's (``translate.pool.Aimd``): a 429 halves it, runs of successes grow it back.
- **Claims.** A worker claims a window (its cache key) before paying for it; while the claim stands, no
  other worker sends that window: it waits for the answer to reach the shared cache.
- **Leases.** Every holder (a worker process) beats while it lives. One not heard from for ``lease_s``
  has died with its requests: its slots and claims are freed, and its windows go to whoever asks next.
"""
from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from typing import Callable

from dubber.translate.pool import Aimd

log = logging.getLogger(__name__)

LEASE_S = 10.0  # a worker silent this long is dead (it beats every LEASE_S / 4)


@dataclass(frozen=True)
class Books:
    """What the ledger saw over the run."""

    peak_in_flight: int
    limit: int
    lowest_limit: int
    cuts: int
    expired_holders: int


class Ledger:
    def __init__(self, ceiling: int, lease_s: float = LEASE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.rule = Aimd(ceiling)
        self.lease_s, self.clock = lease_s, clock
        self.heard: dict[str, float] = {}  # holder -> when last heard
        self.slots: dict[int, tuple[str, float]] = {}  # ticket -> (holder, when it went)
        self.claims: dict[str, str] = {}  # window key -> holder
        self.peak = 0
        self.expired = 0
        self._tickets = itertools.count(1)

    def beat(self, holder: str) -> None:
        self.heard[holder] = self.clock()

    def _expire(self) -> None:
        now = self.clock()
        dead = {h for h, heard in self.heard.items() if now - heard > self.lease_s}
        if not dead:
            return
        for holder in dead:
            del self.heard[holder]
        self.slots = {t: slot for t, slot in self.slots.items() if slot[0] not in dead}
        freed = [key for key, holder in self.claims.items() if holder in dead]
        for key in freed:
            del self.claims[key]
        self.expired += len(dead)
        log.warning("%d worker(s) silent for %.0f s: their requests and %d claimed windows are freed",
                    len(dead), self.lease_s, len(freed))

    def take(self, holder: str) -> int | None:
        """A slot for one request (its ticket), or None while ``limit`` are in flight."""
        self.beat(holder)
        self._expire()
        if len(self.slots) >= self.rule.limit:
            return None
        ticket = next(self._tickets)
        self.slots[ticket] = (holder, self.clock())
        self.peak = max(self.peak, len(self.slots))
        return ticket

    def give_back(self, ticket: int, rate_limited: bool) -> None:
        """The request on ``ticket`` has its answer (a 429 or not). A ticket freed by expiry is not counted:
        its holder was taken for dead."""
        slot = self.slots.pop(ticket, None)
        if slot is not None:
            self.rule.answered(slot[1], rate_limited, self.clock())

    def claim(self, holder: str, key: str) -> bool:
        """Whether ``holder`` may fetch the window ``key``: no one else holds it (claims are exclusive, even
        between two threads of one holder)."""
        self.beat(holder)
        self._expire()
        if key in self.claims:
            return False
        self.claims[key] = holder
        return True

    def unclaim(self, holder: str, key: str) -> None:
        if self.claims.get(key) == holder:
            del self.claims[key]

    def books(self) -> Books:
        stats = self.rule.stats
        return Books(self.peak, self.rule.limit, stats.lowest, stats.cuts, self.expired)
