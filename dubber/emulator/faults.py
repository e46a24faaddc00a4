"""Faults the emulator injects on purpose, so clients can rehearse a flaky network and a rate-limited account.

Which fault, if any, hits a request is a pure function of the request's number (``Faults.pick``). Numbers
count, from 1, the chat requests the emulator *accepted* (key and body valid), in the order it accepted
them (arrival order, give or take requests checked at the same moment): "every 3rd" hits requests 3, 6,
9, ..., and a refused request keeps its 4xx and takes no fault's turn.
Rate-based faults roll a die seeded by (seed, fault, number), so a schedule replays exactly whatever
order the server's threads run in.

When several faults hit one request, the one the real service would give first wins:

    429 (its rate limiter, before the model runs)  >  500 (the model failed before answering)
        >  error event (the model failed while answering)  >  drop (the answer broke off midway)

An error event is what the chat services send when an answer fails once it has begun: part of the
stream, then one event whose data is an error object (``{"error": {"code": ...}}``), and no finish chunk
or ``[DONE]``. Its code says what failed: ``internal_error`` passes, ``data_inspection_failed`` (content
moderation) does not. A request hit by it that did not ask for a stream gets the 500 instead.

``latency`` delays every accepted request, faulted or not, before anything is sent back.
``max_in_flight`` is an account's concurrency quota: an accepted request that finds that many others
still being answered gets a 429 (with Retry-After), whatever its number.
"""
from __future__ import annotations

import enum
import hashlib
import math
from dataclasses import dataclass, fields

from dubber.emulator.dialects import ApiError


class Fault(enum.Enum):
    RATE_LIMIT = "429"
    SERVER_ERROR = "500"
    ERROR_EVENT = "error-event"  # the answer stops midway with an error event in the stream
    DROP = "drop"  # the answer stops midway: no finish chunk, no [DONE]; the connection closes


PRECEDENCE = (Fault.RATE_LIMIT, Fault.SERVER_ERROR, Fault.ERROR_EVENT, Fault.DROP)
# What an error event says, by its code (DashScope's wording).
EVENT_MESSAGES = {
    "internal_error": "An internal error has occurred during the answer, please try again later.",
    "data_inspection_failed": "Output data may contain inappropriate content.",
}

# DashScope's OpenAI-compatible endpoint answers a TPM/RPM limit with OpenAI's "insufficient_quota"
# shape, although the account still has credit: dubber must treat it as passing.
QUOTA_MESSAGE = "You exceeded your current quota, please check your plan and billing details."
SERVER_MESSAGE = "An internal error has occurred, please try again later or contact service support."
# OpenAI's own API (the /v1/audio/* paths) words the same two faults its own way.
OPENAI_RATE_MESSAGE = "Rate limit reached for requests per min (RPM). Please try again in {wait:g}s."
OPENAI_SERVER_MESSAGE = "The server had an error while processing your request. Sorry about that!"


def roll(seed: int, fault: Fault, number: int) -> float:
    """A uniform draw in [0, 1) fixed by its arguments (so no shared RNG state between threads).

    >>> roll(0, Fault.DROP, 7) == roll(0, Fault.DROP, 7) != roll(1, Fault.DROP, 7)
    True
    """
    digest = hashlib.sha256(f"{seed}:{fault.value}:{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often. ``*_every`` = 0 and ``*_rate`` = 0 turn a fault off."""

    latency: float = 0.0  # seconds before each accepted request is answered (or failed)
    retry_after: float = 1.0  # seconds, sent as Retry-After (and retry-after-ms) with each 429
    fail_429_every: int = 0
    fail_429_rate: float = 0.0
    fail_500_every: int = 0
    fail_500_rate: float = 0.0
    drop_stream_every: int = 0
    drop_stream_rate: float = 0.0
    error_event_every: int = 0
    error_event_rate: float = 0.0
    error_event_code: str = "internal_error"  # a key of EVENT_MESSAGES
    seed: int = 0  # for the *_rate faults
    max_in_flight: int = 0  # requests answered at once before the rest get a 429; 0: no such quota

    def __post_init__(self) -> None:
        if self.error_event_code not in EVENT_MESSAGES:
            raise ValueError(f"error_event_code must be one of {', '.join(EVENT_MESSAGES)}, "
                             f"not {self.error_event_code!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                continue
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, not {value}")
            if f.name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, not {value}")
            if f.name != "seed" and value < 0:
                raise ValueError(f"{f.name} must not be negative, not {value}")

    def _schedule(self, fault: Fault) -> tuple[int, float]:
        return {Fault.RATE_LIMIT: (self.fail_429_every, self.fail_429_rate),
                Fault.SERVER_ERROR: (self.fail_500_every, self.fail_500_rate),
                Fault.ERROR_EVENT: (self.error_event_every, self.error_event_rate),
                Fault.DROP: (self.drop_stream_every, self.drop_stream_rate)}[fault]

    def hits(self, fault: Fault, number: int) -> bool:
        """Whether ``fault`` is scheduled for accepted request ``number`` (1-based), precedence aside."""
        every, rate = self._schedule(fault)
        return (every > 0 and number % every == 0) or (rate > 0 and roll(self.seed, fault, number) < rate)

    def pick(self, number: int) -> Fault | None:
        """The fault accepted request ``number`` gets, by ``PRECEDENCE``; None: answer it normally.

        >>> [getattr(Faults(fail_429_every=3, fail_500_every=5, drop_stream_every=4).pick(n), "value", "-")
        ...  for n in (1, 3, 4, 5, 12, 15, 20)]
        ['-', '429', 'drop', '500', '429', '429', '500']
        """
        return next((fault for fault in PRECEDENCE if self.hits(fault, number)), None)


def fault_error(fault: Fault, faults: Faults) -> ApiError:
    """The JSON error a 429 or 500 fault answers with, as DashScope's compatible endpoint sends it (and,
    on OpenAI-style paths, as OpenAI's API does)."""
    if fault is Fault.RATE_LIMIT:
        wait = faults.retry_after
        headers = {"Retry-After": f"{wait:g}", "retry-after-ms": str(round(wait * 1000))}
        openai = {"message": OPENAI_RATE_MESSAGE.format(wait=wait), "type": "requests", "code": "rate_limit_exceeded"}
        return ApiError(429, QUOTA_MESSAGE, None, code="insufficient_quota", kind="insufficient_quota",
                        headers=headers, variants={"openai": openai})
    if fault is Fault.SERVER_ERROR:
        openai = {"message": OPENAI_SERVER_MESSAGE, "type": "server_error", "code": None}
        return ApiError(500, SERVER_MESSAGE, None, code="internal_error", kind="internal_error",
                        variants={"openai": openai})
    raise ValueError(f"{fault} is not answered with an error")


def event_error(faults: Faults) -> ApiError:
    """The error an error event carries (rendered in the path's dialect, like any refusal)."""
    code = faults.error_event_code
    return ApiError(500, EVENT_MESSAGES[code], None, code=code, kind=code)
