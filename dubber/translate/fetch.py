"""Translating every window: at most ``jobs`` requests at once, each retried on passing faults, each
answer kept in the window cache; results come back in window order.

A window that fails fast (bad key, rejected request) stops the run at once; windows that still fail
after their retries are named together at the end, after every other window has had its chance (and
its answer has been cached, so a rerun pays only for the failed ones).

A backend that takes context (``Backend.context_windows`` > 0) gets, with each window, the texts of the
windows before it; those windows are then sent one at a time, in order, and the context is part of each
window's cache key (it shapes the answer).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from dubber.backends import Backend, TranslateRequest, WindowMedia
from dubber.errors import BackendError, TransientError
from dubber.events import NO_EVENTS, Events, WindowRecord
from dubber.models import Translation, TranslationResult, Window
from dubber.translate.cache import DEFAULT_MAX_BYTES, Store, WindowCache, cache_key
from dubber.translate.pool import Account, AdaptiveLimit, DaemonPool, Limit
from dubber.translate.retry import RetryPolicy, Stopped, with_retries

log = logging.getLogger(__name__)


CLAIM_POLL_S = 0.25  # how often a window another process is fetching is looked for in the cache


@dataclass(frozen=True)
class FetchOptions:
    jobs: int = 4
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache_dir: Path | None = None  # None: no cache
    cache_max_bytes: int = DEFAULT_MAX_BYTES
    store: Store | None = None  # a cache elsewhere (``--cache-dir s3://...``): used instead of cache_dir
    account: Account | None = None  # shared with other processes: their limit and claims

    def open_cache(self) -> Store | None:
        if self.store is not None:
            return self.store
        return WindowCache(self.cache_dir, self.cache_max_bytes) if self.cache_dir is not None else None


@dataclass(frozen=True)
class FetchPlan:
    """What to send: each window's media is made on demand (``media_of``), so memory stays flat."""

    windows: Sequence[Window]
    media_of: Callable[[Window], WindowMedia]
    request: TranslateRequest
    voices: Mapping[int, str] = field(default_factory=dict)  # a speaker's voice (``--speakers``), by speaker

    def request_for(self, window: Window) -> TranslateRequest:
        """What ``window`` asks: the plan's request, in its speaker's voice when it has one."""
        voice = self.voices.get(window.speaker) if window.speaker is not None else None
        return self.request if voice is None or voice == self.request.voice else replace(self.request, voice=voice)


@dataclass
class FetchStats:
    cached: int = 0
    fetched: int = 0
    lowest_in_flight: int = 0  # the fewest requests the rate limits left in flight (--jobs if never cut)
    rate_limit_cuts: int = 0


@dataclass(frozen=True)
class _Shared:
    """What every window's fetch reads: the cache, the stop flag,
    and (for a backend that takes context) the texts answered so far, in window order."""

    cache: Store | None
    stop: threading.Event
    history: list[str] | None
    limit: Limit
    tally: dict[int, "_Tally"] = field(default_factory=dict)  # each window's own: written by its worker only


@dataclass
class _Tally:
    """How a window's fetch went so far: requests sent, and when the first one went."""

    attempts: int = 0
    started: float | None = None
    ended: float | None = None

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started if self.started is not None else 0.0


def _limited(limit: Limit, stop: threading.Event, call: Callable[[], TranslationResult]) -> TranslationResult:
    """One attempt, within the adaptive limit of requests in flight (a 429 cuts it, successes grow it)."""
    token = limit.acquire(stop)
    rate_limited = False
    try:
        return call()
    except TransientError as exc:
        rate_limited = exc.status == 429
        raise
    finally:
        limit.release(token, rate_limited)


# In a str every surrogate code point is a lone one: JSON's escaped pairs decode to one code point.
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with what no UTF-8 file can hold (lone surrogates, which valid JSON may carry) replaced by
    U+FFFD, so a model's text can always be written.

    >>> valid_unicode("ok \\ud800 done") == "ok \\ufffd done"
    True
    """
    return _SURROGATE.sub("\ufffd", text)


def _valid(result: TranslationResult) -> TranslationResult:
    """The service's text made writable, where it enters: every stage after this may encode it."""
    segments = tuple(replace(s, text=valid_unicode(s.text)) for s in result.segments)
    return replace(result, text=valid_unicode(result.text), segments=segments)


def _fetch_one(backend: Backend, plan: FetchPlan, window: Window, options: FetchOptions,
               shared: _Shared) -> tuple[Translation, bool]:
    """One window's translation, and whether it came from the cache."""
    media, request = plan.media_of(window), plan.request_for(window)
    context = tuple(shared.history[-backend.context_windows:]) if shared.history else ()
    ask = _Ask(window, media, request, context, _window_key(backend, request, media, context))
    result = shared.cache.get(ask.key) if shared.cache else None
    account = options.account if shared.cache else None  # claims keep others off a window the cache will hold
    claimed = False
    if result is None and account is not None:
        result = _claim(account, shared, ask.key)
        claimed = result is None
    try:
        return _answer(backend, ask, options, shared, result)
    finally:
        if claimed:
            account.unclaim(ask.key)


@dataclass(frozen=True)
class _Ask:
    """One window's request, whole: what it sends, with what context, under which cache key."""

    window: Window
    media: WindowMedia
    request: TranslateRequest
    context: tuple[str, ...]
    key: str


def _claim(account: Account, shared: _Shared, key: str) -> TranslationResult | None:
    """Claim ``key`` for this process before paying for it (None: claimed), or, while another process holds
    it, wait for its answer to reach the cache (a claim whose holder died expires, and is taken here)."""
    while not account.claim(key):
        if shared.stop.wait(CLAIM_POLL_S):
            raise Stopped("stopped while another worker was fetching this window")
        if (result := shared.cache.get(key)) is not None:
            return result
    # claimed: but the holder before may have put its answer just before letting go
    result = shared.cache.get(key)
    if result is not None:
        account.unclaim(key)
    return result


def _answer(backend: Backend, ask: _Ask, options: FetchOptions, shared: _Shared,
            result: TranslationResult | None) -> tuple[Translation, bool]:
    """``result`` if the cache had it, else the service's answer, kept in the cache."""
    from_cache = result is not None
    if result is None:
        tally = shared.tally.setdefault(ask.window.index, _Tally())

        def attempt() -> TranslationResult:
            tally.attempts += 1
            tally.started = tally.started or time.monotonic()
            return backend.translate(ask.media, ask.request, window=ask.window.index, context=ask.context)

        try:
            result = _valid(with_retries(lambda: _limited(shared.limit, shared.stop, attempt), options.retry,
                                         shared.stop))
        except BackendError as exc:
            if not isinstance(exc, TransientError):
                shared.stop.set()  # fails fast: stop the other workers now, before they send another window
            raise
        finally:
            tally.ended = time.monotonic()
        if shared.cache:
            shared.cache.put(ask.key, result)
    if shared.history is not None and result.text:
        shared.history.append(result.text)
    return Translation(ask.window, result), from_cache


def _window_key(backend: Backend, request: TranslateRequest, media: WindowMedia, context: tuple[str, ...]) -> str:
    """A window's cache key: its media, what the backend says shapes the answer to ``request`` (the window's
    own voice included), and the context it carries."""
    identity = backend.cache_identity(request)
    return cache_key(media.data, {**identity, "context": list(context)} if context else identity)


def _failure(windows: Sequence[Window], errors: dict[int, TransientError], attempts: int) -> BackendError:
    names = ", ".join(str(i) for i in sorted(errors))
    last = errors[max(errors)]
    return BackendError(f"{len(errors)} of {len(windows)} windows failed after {attempts} attempts "
                        f"(windows {names}; last error: {last.message})")


def cached_answers(backend: Backend, plan: FetchPlan, options: FetchOptions) -> Iterator[Translation | None]:
    """Each window's answer from the cache, in window order, sending nothing: a None for the first window
    that is not there (and nothing after it). A backend that takes context is looked up as it was fetched:
    each window with the texts of the ones before it. One answer is held at a time."""
    cache = options.open_cache()
    if cache is None:
        yield None
        return
    history: list[str] = []
    for window in plan.windows:
        context = tuple(history[-backend.context_windows:]) if backend.context_windows and history else ()
        key = _window_key(backend, plan.request_for(window), plan.media_of(window), context)
        result = cache.get(key)
        if result is None:
            yield None
            return
        if result.text:
            history.append(result.text)
        yield Translation(window, result)


def fetch_all(backend: Backend, plan: FetchPlan, options: FetchOptions,
              on_done: Callable[[Translation], None] | None = None,
              keep: Callable[[Translation], Translation] | None = None,
              events: Events = NO_EVENTS) -> tuple[list[Translation], FetchStats]:
    """Every window's translation, in window order. ``on_done`` sees each full answer as it arrives;
    ``keep`` slims what is held until the end (a dub spools its speech to disk and keeps only the text),
    so memory stays flat however long the media. ``events`` hears of each window as it ends, answered or
    failed for good."""
    return Fetcher(backend, plan.request, options).collect(plan, on_done, keep, events)


class Fetcher:
    """The requests of one fetch: windows are sent as they are handed over (``submit``), the first ones
    while the rest of the media is still being analysed, and ``collect`` gathers every answer of the
    whole plan. A window handed over twice is sent once."""

    def __init__(self, backend: Backend, request: TranslateRequest, options: FetchOptions) -> None:
        self.backend, self.request, self.options = backend, request, options
        in_order = backend.context_windows > 0
        self.cache = options.open_cache()
        if self.cache:
            self.cache.tidy()
        self.workers = workers = 1 if in_order else max(1, options.jobs)
        limit = options.account.limit(workers) if options.account is not None else AdaptiveLimit(workers)
        self.shared = _Shared(self.cache, threading.Event(), [] if in_order else None, limit)
        if in_order and options.jobs > 1:
            log.info("each window carries the ones before it as context: windows are sent one at a time")
        # One worker runs its queue in submission order: with context, each window sees the ones before it.
        self.pool = DaemonPool(workers)
        self.sent: dict[Window, Future] = {}

    def submit(self, plan: FetchPlan) -> None:
        """Send ``plan``'s windows (those not sent yet), in order."""
        for window in plan.windows:
            if window not in self.sent:
                self.sent[window] = self.pool.submit(_fetch_one, self.backend, plan, window, self.options, self.shared)

    def stop(self) -> None:
        """Send nothing more: queued windows are dropped, backoffs end at once, and requests under way are
        not waited for (daemon workers: the process may exit now)."""
        self.shared.stop.set()
        self.pool.shutdown(cancel=True)

    def collect(self, plan: FetchPlan, on_done: Callable[[Translation], None] | None = None,
                keep: Callable[[Translation], Translation] | None = None,
                events: Events = NO_EVENTS) -> tuple[list[Translation], FetchStats]:
        """Every window of ``plan`` translated, in window order (see ``fetch_all``)."""
        try:
            self.submit(plan)
            futures = {self.sent[w]: w for w in plan.windows}
            for window, future in self.sent.items():
                if future not in futures:  # handed over early, but not in the plan: not wanted after all
                    log.warning("window %d (%d-%d ms) was sent early but is not in the plan", window.index,
                                window.start_ms, window.end_ms)
                    future.cancel()
            # _collect lets each answer go once it is used (a dub's speech: ~110 MB an hour): hold no other
            self.sent.clear()
            done, failed, stats = _collect(futures, _Watch(plan.request, self.shared.tally, on_done, keep, events))
        except BaseException:
            # a window failed for good, or Ctrl-C: send nothing more
            self.stop()
            raise
        self.pool.shutdown()
        limit = self.shared.limit.stats
        stats.lowest_in_flight, stats.rate_limit_cuts = limit.lowest, limit.cuts
        if stats.rate_limit_cuts:
            log.warning("the service rate-limited this run: requests in flight were cut %d times, to %d at the "
                        "fewest (of %d)", stats.rate_limit_cuts, stats.lowest_in_flight, self.workers)
        if self.cache:
            self.cache.tidy()  # this run's answers may have pushed it over its size
        if failed:
            raise _failure(plan.windows, failed, self.options.retry.attempts)
        return [done[w.index] for w in plan.windows], stats


@dataclass(frozen=True)
class _Watch:
    """Who hears of each window as it ends: ``on_done`` and ``keep`` (its answer), ``events`` (its record)."""

    request: TranslateRequest
    tally: dict[int, _Tally]
    on_done: Callable[[Translation], None] | None
    keep: Callable[[Translation], Translation] | None
    events: Events

    def record(self, window: Window, result: TranslationResult | None, cached: bool,
               error: BaseException | None = None) -> None:
        tally = self.tally.get(window.index, _Tally())
        target = self.request.target.code if self.request.target is not None else None
        self.events.window(WindowRecord(
            index=int(window.index), start_ms=int(window.start_ms), end_ms=int(window.end_ms),
            task=self.request.task, language=target, status="failed" if error else "ok", cached=cached,
            attempts=0 if cached else tally.attempts, seconds=0.0 if cached else round(tally.seconds, 3),
            usage=result.usage if result is not None else None, error=str(error) if error else None))
        self.events.advance(1)


def _collect(futures: dict[Future, Window], watch: _Watch) -> tuple[dict, dict, FetchStats]:
    """Wait for every window; a fail-fast error is raised at once, transient failures are gathered."""
    stats, done, failed = FetchStats(), {}, {}
    pending = set(futures)
    while pending:
        # each answer is seen (spooled, shown, recorded) as it comes, not when the last one has
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        # A window that failed for good stops the others; their Stopped is a consequence, never the error
        # to report, so the failures are read first and in window order.
        errors = sorted(((futures[f], f.exception()) for f in finished if f.exception() is not None),
                        key=lambda error: error[0].index)
        fatal = [(window, exc) for window, exc in errors if not isinstance(exc, (TransientError, Stopped))]
        if fatal:
            window, exc = fatal[0]
            watch.record(window, None, False, exc)
            raise exc
        for future in sorted(finished, key=lambda f: futures[f].index):
            window, exc = futures.pop(future), future.exception()  # pop: let the answer go once used
            if isinstance(exc, TransientError):
                failed[window.index] = exc
                watch.record(window, None, False, exc)
            elif exc is not None:  # Stopped with no window to blame: the run is stopping
                raise exc
            else:
                translation, from_cache = future.result()
                stats.cached += from_cache
                stats.fetched += not from_cache
                watch.record(window, translation.result, from_cache)
                if watch.on_done is not None:
                    watch.on_done(translation)
                done[window.index] = watch.keep(translation) if watch.keep is not None else translation
    return done, failed, stats
