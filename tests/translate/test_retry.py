"""The retry policy: what is retried, how long it waits, when it gives up."""
from __future__ import annotations

import time

import pytest

from dubber.errors import AuthError, TransientError
from dubber.translate.retry import RetryPolicy, with_retries

FAST = RetryPolicy(attempts=4, base_s=0.01, max_wait_s=0.05)


def _flaky(failures):
    calls = []

    def call():
        calls.append(time.monotonic())
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "ok"

    return call, calls


def test_transient_errors_are_retried_until_success():
    call, calls = _flaky([TransientError("429"), TransientError("500")])
    assert with_retries(call, FAST) == "ok" and len(calls) == 3


def test_fail_fast_errors_are_not_retried():
    call, calls = _flaky([AuthError("401")])
    with pytest.raises(AuthError):
        with_retries(call, FAST)
    assert len(calls) == 1


def test_gives_up_after_the_attempts_with_the_last_error():
    call, calls = _flaky([TransientError(f"e{i}") for i in range(10)])
    with pytest.raises(TransientError, match="e3"):
        with_retries(call, FAST)
    assert len(calls) == 4


def test_retry_after_is_honoured():
    call, calls = _flaky([TransientError("429", retry_after=0.3)])
    assert with_retries(call, RetryPolicy(attempts=2, base_s=0.001, max_wait_s=5)) == "ok"
    assert calls[1] - calls[0] >= 0.3
