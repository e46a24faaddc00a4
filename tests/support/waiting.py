"""Waiting for a condition instead of sleeping a guessed time: a sleep long enough on an idle laptop is too
short on a loaded 2-core CI machine, and one long enough for that wastes time everywhere else."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")

# Long enough that only a condition that never comes ends the wait (a loaded machine may take seconds for
# what takes milliseconds here), short enough that a broken test still fails within a CI step's patience.
TIMEOUT_S = 30.0


def wait_until(predicate: Callable[[], T], what: str, timeout: float = TIMEOUT_S, interval: float = 0.05) -> T:
    """``predicate()``'s first truthy value, polled every ``interval`` seconds; an AssertionError naming
    ``what`` was awaited if none comes within ``timeout`` seconds (the predicate is asked once more at the
    deadline, so a slow poll never fails a condition that holds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}, in vain")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
