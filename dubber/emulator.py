"""An offline stand-in for qwen3-livetranslate-flash behind the OpenAI-compatible endpoint.

It checks requests the way the service does (``emulator_request``), answers in the service's wire format
(DashScope-shaped errors, streamed text then audio deltas, a usage chunk) and returns deterministic
placeholder text and speech sized like the input's speech (``emulator_content``), or a fixed text.
On request it misbehaves like a busy service (``emulator_faults``): latency, 429 with Retry-After, 500,
answers cut off midway. Tests, benchmarks and demos run the real openai SDK against it over loopback,
with no network and no key.
"""
from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import urlsplit

from dubber import emulator_content as content
from dubber.emulator_faults import Fault, Faults, fault_error
from dubber.emulator_request import MODELS, ApiError, parse_request

__all__ = ["API_PREFIX", "CHAT_PATH", "DEFAULT_KEY", "MODELS", "Emulator", "EmulatorConfig", "EmulatorStats",
           "Fault", "Faults"]

log = logging.getLogger(__name__)

DEFAULT_KEY = "sk-emulator"
API_PREFIX = "/compatible-mode/v1"
CHAT_PATH = API_PREFIX + "/chat/completions"
MAX_BODY = 256 * 1024 * 1024  # far above any window dubber sends; stops a runaway client
POLL_S = 0.05  # how often the serving loop checks for stop(): bounds how long stopping takes
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)  # the client hung up


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's answers."""

    keys: frozenset[str] = frozenset({DEFAULT_KEY})
    delta_bytes: int = 4801  # odd on purpose: audio deltas then split samples, as the service's may
    answer_text: str | None = None  # answered instead of the placeholder text; None: the placeholder
    faults: Faults = field(default_factory=Faults)


@dataclass(frozen=True)
class EmulatorStats:
    """What the emulator has seen so far."""

    requests: int = 0  # chat-completions POSTs, refused ones included
    accepted: int = 0  # passed the key and body checks: the numbers faults are scheduled on
    answered: int = 0  # complete answers sent (a dropped one is not)
    rate_limited: int = 0  # 429 faults
    server_errors: int = 0  # 500 faults
    dropped: int = 0  # answers cut off midway


_FAULT_FIELD = {Fault.RATE_LIMIT: "rate_limited", Fault.SERVER_ERROR: "server_errors", Fault.DROP: "dropped"}


def _json_bytes(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class _Server(ThreadingHTTPServer):
    # Clients pool keep-alive connections whose handler threads wait for a next request that may
    # never come: joining them on close would hang ``stop()``.
    block_on_close = False

    def __init__(self, host: str, port: int, config: EmulatorConfig) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)
        self.config = config
        self.stats = EmulatorStats()
        self._lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall for seconds offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; only the CLI decides where output goes.
        log.exception("emulator error while serving a request")

    def count(self, name: str) -> int:
        """Add one to the ``name`` counter of the stats; returns its new value."""
        with self._lock:
            self.stats = replace(self.stats, **{name: getattr(self.stats, name) + 1})
            return getattr(self.stats, name)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for JSON answers; streams close the connection
    timeout = 60  # drop idle keep-alive connections instead of holding a thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the default writes to stderr; ``_handle`` logs one line per request instead."""

    def do_POST(self) -> None:
        self._handle()

    # Every other method gets the JSON 404 too (not HEAD: its answer may not carry a body).
    do_GET = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_POST

    def _handle(self) -> None:
        request_id = str(uuid.uuid4())
        path = urlsplit(self.path).path  # the query is never logged: a client may put a key there
        try:
            req, fault = self._accept(path)
            answer = content.Answer.for_request(req, str(uuid.uuid4()), int(time.time()),
                                                text=self.server.config.answer_text)
        except Exception as exc:
            err = exc if isinstance(exc, ApiError) else None
            if err is None:  # a bug here: answer 500 as the service would, rather than hang up
                log.exception("emulator failed on %s %s", self.command, path)
                err = ApiError(500, "The emulator failed; see its log.", None, code="internal_error")
            # Logged before answering so the line is there by the time the client has its answer.
            log.info("%s %s %d", self.command, path, err.status)
            self._reply(lambda: self._send_json(err.status, err.body(request_id), request_id, err.headers))
            return
        if fault is Fault.DROP:
            log.info("%s %s 200 model=%s stream=%s, cut off midway (fault)", self.command, path, req.model, req.stream)
            self._reply(lambda: self._send_broken(answer, request_id))
            return
        log.info("%s %s 200 model=%s stream=%s", self.command, path, req.model, req.stream)
        send = (lambda: self._send_stream(answer, request_id)) if req.stream else (
            lambda: self._send_json(200, answer.completion(), request_id))
        if self._reply(send):
            self.server.count("answered")

    def _accept(self, path: str) -> tuple[content.ChatRequest, Fault | None]:
        """Read and check the request; number it, wait the latency, and raise a 429/500 fault if it has one."""
        body = self._read_body()
        if self.command != "POST" or path != CHAT_PATH:
            raise ApiError(404, f"Unknown path: {self.command} {path}", None, code="not_found")
        self.server.count("requests")
        self._authorize()
        req = parse_request(body)
        faults = self.server.config.faults
        number = self.server.count("accepted")
        fault = faults.pick(number)
        if faults.latency:
            time.sleep(faults.latency)
        if fault is not None:
            self.server.count(_FAULT_FIELD[fault])
            log.info("request %d gets fault %s", number, fault.value)
            if fault is not Fault.DROP:
                raise fault_error(fault, faults)
        return req, fault

    def _reply(self, send) -> bool:
        """Run ``send``; False when the client hung up first (a killed client is no emulator error)."""
        try:
            send()
            return True
        except _GONE:
            self.close_connection = True
            log.debug("the client closed the connection before the answer was sent")
            return False

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the unread body would be taken for the next request
            raise ApiError(400 if length < 0 else 413, "bad or too large Content-Length", None)
        return self.rfile.read(length)

    def _authorize(self) -> None:
        scheme, _, key = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or key.strip() not in self.server.config.keys:
            # The message never repeats the key: error bodies end up in logs and bug reports.
            raise ApiError(401, "Incorrect API key provided.", None, code="invalid_api_key")

    def _send_json(self, status: int, obj: dict, request_id: str, headers: dict[str, str] | None = None,
                   cut: bool = False) -> None:
        """Send ``obj``; ``cut``: announce its full length, send half, and hang up."""
        data = _json_bytes(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection or cut:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if cut else data)

    def _start_stream(self, request_id: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        # No length is known up front: the body ends when the connection closes.
        self.send_header("Connection", "close")
        self.send_header("x-request-id", request_id)
        self.end_headers()

    def _send_events(self, chunks: Iterable[dict]) -> None:
        for chunk in chunks:
            self.wfile.write(b"data: " + _json_bytes(chunk) + b"\n\n")
            self.wfile.flush()

    def _send_stream(self, answer: content.Answer, request_id: str) -> None:
        self._start_stream(request_id)
        self._send_events(answer.chunks(self.server.config.delta_bytes))
        self.wfile.write(b"data: [DONE]\n\n")

    def _send_broken(self, answer: content.Answer, request_id: str) -> None:
        """The answer breaks off midway: part of the stream (or half the JSON body), then the connection
        closes, with no finish chunk and no [DONE]."""
        if not answer.request.stream:
            self._send_json(200, answer.completion(), request_id, cut=True)
            return
        self._start_stream(request_id)
        self._send_events(answer.broken_chunks(self.server.config.delta_bytes))


class Emulator:
    """The emulator bound to a port (``port=0``: any free one); ``base_url`` is ready at once.

    >>> with Emulator(faults=Faults(fail_429_every=3, retry_after=0.1)) as emu:  # doctest: +SKIP
    ...     client = OpenAI(api_key=DEFAULT_KEY, base_url=emu.base_url)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keys: Iterable[str] = (DEFAULT_KEY,),
                 delta_bytes: int = 4801, *, answer_text: str | None = None, faults: Faults = Faults()) -> None:
        keys = frozenset(keys)
        if not keys or delta_bytes < 1:
            raise ValueError("the emulator needs at least one key and delta_bytes >= 1")
        self.config = EmulatorConfig(keys=keys, delta_bytes=delta_bytes, answer_text=answer_text, faults=faults)
        self._server = _Server(host, port, self.config)
        self._thread: threading.Thread | None = None
        self._serving = False
        bound_host, bound_port = self._server.server_address[:2]
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.base_url = f"http://{url_host}:{bound_port}{API_PREFIX}"

    @property
    def stats(self) -> EmulatorStats:
        """A snapshot of the counters."""
        return self._server.stats

    @property
    def requests(self) -> int:
        """Chat-completions POSTs received so far, including refused ones."""
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
