"""The emulator bound to a port: its settings, its counters, and starting and stopping it.

The exchange itself (routing, checks, faults, answers) is ``handler``'s; this module owns the socket.
A port that cannot be bound is an ``EmulatorError`` with a one-line message, not a traceback.
"""
from __future__ import annotations

import errno
import logging
import socket
import socketserver
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import ThreadingHTTPServer
from typing import Any, Iterable

from dubber.emulator.faults import Faults
from dubber.emulator.handler import Handler
from dubber.emulator.routing import SERVICES, Router
from dubber.emulator.service import API_PREFIX, Captured, Service
from dubber.errors import EmulatorError
from dubber.languages import SUPPORTED

__all__ = ["DEFAULT_KEY", "OPENAI_PREFIX", "Emulator", "EmulatorConfig", "EmulatorStats", "Server"]

log = logging.getLogger(__name__)

DEFAULT_KEY = "sk-emulator"
OPENAI_PREFIX = "/v1"  # where the OpenAI-style endpoints (/audio/*) are served
VOICES_KEPT = 100_000  # accepted requests whose voice is kept (an hour's dub is under 1,000)
POLL_S = 0.05  # how often the serving loop checks for stop(): bounds how long stopping takes


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's answers."""

    keys: frozenset[str] = frozenset({DEFAULT_KEY})
    delta_bytes: int = 4801  # odd on purpose: audio deltas then split samples, as the service's may
    answer_text: str | None = None  # answered instead of the placeholder text; None: the placeholder
    faults: Faults = field(default_factory=Faults)
    capture: int = 64  # how many of the latest requests to keep for ``Emulator.captured`` (0: none)
    # The language a transcriber (qwen3-asr-flash) "detects" in every request that names none: one
    # setting, so a test can make the emulator hear Chinese and see what dubber does with that.
    detect_language: str = "en"


@dataclass(frozen=True)
class EmulatorStats:
    """What the emulator has seen so far."""

    requests: int = 0  # POSTs to a served path, refused ones included
    accepted: int = 0  # passed the key and body checks: the numbers faults are scheduled on
    answered: int = 0  # complete answers sent (a dropped one is not)
    rate_limited: int = 0  # 429 faults
    server_errors: int = 0  # 500 faults
    dropped: int = 0  # answers cut off midway
    error_events: int = 0  # answers ended by an error event
    prompt_tokens: int = 0  # the usage the answers carried, summed as sent (what a client should report)
    completion_tokens: int = 0
    total_tokens: int = 0
    peak_in_flight: int = 0  # the most accepted requests under way at once


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_error(host: str, port: int, exc: Exception) -> EmulatorError:
    """One line for a user: where, why, and (when the port is the problem) what to do instead.

    >>> str(bind_error("127.0.0.1", 8765, OSError(errno.EADDRINUSE, "Address already in use")))
    'cannot listen on 127.0.0.1:8765: Address already in use; --port 0 picks a free port'
    """
    reason = getattr(exc, "strerror", None) or str(exc)
    taken = getattr(exc, "errno", None) in (errno.EADDRINUSE, errno.EACCES)
    return EmulatorError(f"cannot listen on {_host_port(host, port)}: {reason}"
                         + ("; --port 0 picks a free port" if taken else ""))


class Server(ThreadingHTTPServer):
    """The listening socket, with what every exchange shares: settings, routes, counters."""

    # Clients pool keep-alive connections whose handler threads wait for a next request that may
    # never come: joining them on close would hang ``stop()``.
    block_on_close = False

    def __init__(self, host: str, port: int, config: EmulatorConfig, router: Router) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((host, port), Handler)  # closes its socket itself when binding fails
        except (OSError, OverflowError) as exc:  # OverflowError: a port outside 0-65535
            raise bind_error(host, port, exc) from exc
        self.config = config
        self.router = router
        self.stats = EmulatorStats()
        self.captured: deque[Captured] = deque(maxlen=config.capture)
        self.voices: deque[tuple[str, str | None]] = deque(maxlen=VOICES_KEPT)
        self._in_flight = 0
        self._lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall for seconds offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; only the CLI decides where output goes.
        log.exception("emulator error while serving a request")

    def in_flight(self, change: int) -> int:
        """Add ``change`` to the count of accepted requests not yet answered; returns the new count."""
        with self._lock:
            self._in_flight += change
            if self._in_flight > self.stats.peak_in_flight:
                self.stats = replace(self.stats, peak_in_flight=self._in_flight)
            return self._in_flight

    def capture(self, request: Captured) -> None:
        if self.config.capture:
            with self._lock:
                self.captured.append(request)

    def record(self, model: str, voice: str | None) -> None:
        """An accepted request's model and voice (None: it asked for no speech)."""
        with self._lock:
            self.voices.append((model, voice))

    def count(self, name: str, by: int = 1) -> int:
        """Add ``by`` to the ``name`` counter of the stats; returns its new value."""
        with self._lock:
            self.stats = replace(self.stats, **{name: getattr(self.stats, name) + by})
            return getattr(self.stats, name)


class Emulator:
    """The emulator bound to a port (``port=0``: any free one); ``base_url`` is ready at once.

    Raises ``EmulatorError`` when the port cannot be bound (taken, privileged, unknown host).
    ``services`` replaces the registry (``routing.SERVICES``), for tests of the routing itself.

    >>> with Emulator(faults=Faults(fail_429_every=3, retry_after=0.1)) as emu:  # doctest: +SKIP
    ...     client = OpenAI(api_key=DEFAULT_KEY, base_url=emu.base_url)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keys: Iterable[str] = (DEFAULT_KEY,),
                 delta_bytes: int = 4801, *, answer_text: str | None = None, faults: Faults = Faults(),
                 services: Iterable[Service] = SERVICES, detect_language: str = "en") -> None:
        keys = frozenset(keys)
        if not keys or delta_bytes < 1:
            raise ValueError("the emulator needs at least one key and delta_bytes >= 1")
        if detect_language not in SUPPORTED:
            raise ValueError(f"detect_language must be one of {', '.join(sorted(SUPPORTED))}")
        self.config = EmulatorConfig(keys=keys, delta_bytes=delta_bytes, answer_text=answer_text, faults=faults,
                                     detect_language=detect_language)
        self._server = Server(host, port, self.config, Router(services))
        self._thread: threading.Thread | None = None
        self._serving = False
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{_host_port(bound_host, bound_port)}{API_PREFIX}"  # DashScope's services
        self.openai_base_url = f"http://{_host_port(bound_host, bound_port)}{OPENAI_PREFIX}"  # OpenAI-style ones

    @property
    def stats(self) -> EmulatorStats:
        """A snapshot of the counters."""
        return self._server.stats

    @property
    def captured(self) -> list[Captured]:
        """The latest requests received at served paths, oldest first (see ``EmulatorConfig.capture``)."""
        with self._server._lock:
            return list(self._server.captured)

    @property
    def voices(self) -> list[tuple[str, str | None]]:
        """Each accepted request's (model, voice), in arrival order; the voice is None when it asked for text
        only. The voice was checked against that model's documented list before it was accepted."""
        with self._server._lock:
            return list(self._server.voices)

    @property
    def requests(self) -> int:
        """POSTs to a served path received so far, including refused ones."""
        return self._server.stats.requests

    def start(self) -> "Emulator":
        """Serve in a daemon thread; returns self."""
        self._serving = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_S,),
                                        name="dubber-emulator", daemon=True)
        self._thread.start()
        log.info("emulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving (from any thread) and close the socket; safe to call more than once."""
        if self._serving:
            # shutdown() waits for the serving loop to end, so it must only be called when there is one.
            self._serving = False
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` or Ctrl-C (the CLI's ``dubber emulator``)."""
        log.info("emulator listening on %s", self.base_url)
        self._serving = True
        try:
            self._server.serve_forever(POLL_S)
        finally:
            self._serving = False
            self._server.server_close()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
