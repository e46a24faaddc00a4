"""The account's books (pure, on a hand-turned clock): slots under the AIMD limit, exclusive claims,
and the leases that free what a dead worker held."""
from __future__ import annotations

from dubber.engine.ledger import Ledger


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_no_more_slots_than_the_limit_and_each_given_back_frees_one():
    ledger = Ledger(3, clock=Clock())
    tickets = [ledger.take(h) for h in ("a", "a", "b")]
    assert None not in tickets and len(set(tickets)) == 3
    assert ledger.take("b") is None
    ledger.give_back(tickets[0], rate_limited=False)
    assert ledger.take("b") is not None and ledger.take("a") is None
    assert ledger.books().peak_in_flight == 3


def test_a_429_halves_the_limit_for_every_holder():
    clock = Clock()
    ledger = Ledger(4, clock=clock)
    tickets = [ledger.take(h) for h in ("a", "b", "a", "b")]
    clock.now = 1.0
    ledger.give_back(tickets[0], rate_limited=True)
    books = ledger.books()
    assert (books.limit, books.cuts, books.lowest_limit) == (2, 1, 2)
    # sent before that cut: a second 429 from the same round does not cut again
    ledger.give_back(tickets[1], rate_limited=True)
    assert ledger.books().limit == 2
    ledger.give_back(tickets[2], rate_limited=False)
    # one of the four still in flight, two allowed now: one more, and no other
    assert ledger.take("a") is not None and ledger.take("b") is None


def test_claims_are_exclusive_even_within_one_holder_and_only_the_holder_lets_go():
    ledger = Ledger(2, clock=Clock())
    assert ledger.claim("a", "k1") is True
    assert ledger.claim("a", "k1") is False and ledger.claim("b", "k1") is False
    ledger.unclaim("b", "k1")  # not b's to let go
    assert ledger.claim("b", "k1") is False
    ledger.unclaim("a", "k1")
    assert ledger.claim("b", "k1") is True


def test_a_silent_holder_loses_its_slots_and_claims_when_its_lease_runs_out():
    clock = Clock()
    ledger = Ledger(2, lease_s=10.0, clock=clock)
    dead = [ledger.take("dead"), ledger.take("dead")]
    assert ledger.claim("dead", "window") is True
    assert ledger.take("alive") is None and ledger.claim("alive", "window") is False
    for second in range(1, 10):  # the living beat; the dead do not
        clock.now = float(second)
        ledger.beat("alive")
    assert ledger.take("alive") is None  # 9 s: still within the lease
    clock.now = 10.5
    assert ledger.claim("alive", "window") is True
    assert ledger.take("alive") is not None and ledger.take("alive") is not None
    assert ledger.books().expired_holders == 1
    # the dead worker's answers arriving late are not counted against the new slots
    ledger.give_back(dead[0], rate_limited=True)
    assert ledger.books().cuts == 0 and ledger.take("alive") is None
