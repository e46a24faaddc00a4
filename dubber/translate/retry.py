"""Retrying a window's request: exponential backoff with full jitter, honouring the service's Retry-After.

Only TransientError is retried (429 — DashScope's ``insufficient_quota`` 429 is usually a passing TPM
limit —, 408, 409, 5xx, time-outs, dropped connections, streams cut before their finish chunk).
Everything else (400/401/403/404, ``data_inspection_failed``) fails at once.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, TypeVar

import tenacity

from dubber.errors import DubberError, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # in all, the first included
    base_s: float = 1.0  # the first backoff is drawn from [0, base_s], doubling each time
    max_wait_s: float = 60.0


class _Wait(tenacity.wait.wait_base):
    """Full-jitter exponential backoff, but never shorter than a Retry-After the service sent."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.jitter = tenacity.wait_random_exponential(multiplier=policy.base_s, max=policy.max_wait_s)
        self.cap = policy.max_wait_s

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        asked = getattr(exc, "retry_after", None)
        jitter = self.jitter(retry_state)
        return min(self.cap, max(asked, jitter)) if asked is not None else jitter


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    log.info("%s; retrying in %.1f s (attempt %d)", exc, retry_state.upcoming_sleep, retry_state.attempt_number + 1)


class Stopped(DubberError):
    """The run is stopping (another window failed for good, or the user interrupted): no more attempts."""


def with_retries(call: Callable[[], T], policy: RetryPolicy, stop: threading.Event | None = None) -> T:
    """``call()``, retried on TransientError by ``policy``; the last error is raised when attempts run out.
    Setting ``stop`` cuts a backoff short and prevents any further attempt."""
    stop = stop or threading.Event()

    def attempt() -> T:
        if stop.is_set():
            raise Stopped("stopped before this window was sent")
        return call()

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, policy.attempts)),
        wait=_Wait(policy),
        retry=tenacity.retry_if_exception_type(TransientError),
        before_sleep=_log_retry,
        sleep=stop.wait,  # a backoff ends early when the run stops; the next attempt then raises Stopped
        reraise=True,
    )
    return retrying(attempt)
