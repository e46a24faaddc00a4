"""One HTTP exchange with the emulator: read, route, check, number for faults, answer.

A request is read whole (even one that will be refused, so a keep-alive connection stays in step),
routed (``routing``: the path, then the body's ``model``), its key checked, checked by its service,
numbered for the fault schedule (``faults``), and answered with the ``Reply`` its service builds.
Refusals are shaped in the path's error dialect. Nothing here knows any API's wire format.
"""
from __future__ import annotations

import logging
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from dubber.emulator.dialects import ApiError
from dubber.emulator.faults import Fault, event_error, fault_error
from dubber.emulator.service import Accepted, Captured, Context, Reply, Service, json_reply, wire_usage

if TYPE_CHECKING:
    from dubber.emulator.server import Server

__all__ = ["Handler"]

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024 * 1024  # far above any window dubber sends; stops a runaway client
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)  # the client hung up
_FAULT_FIELD = {Fault.RATE_LIMIT: "rate_limited", Fault.SERVER_ERROR: "server_errors",
                Fault.ERROR_EVENT: "error_events", Fault.DROP: "dropped"}


class Handler(BaseHTTPRequestHandler):
    """Serves one connection: its requests one after the other, each answered or refused in full."""

    protocol_version = "HTTP/1.1"  # keep-alive for JSON answers; streams close the connection
    timeout = 60  # drop idle keep-alive connections instead of holding a thread forever
    server: Server

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
            service, req = self._check(path)
        except Exception as exc:
            self._refuse(exc, path, request_id)
            return
        self.server.record(req.model, getattr(req, "voice", None))
        others = self.server.in_flight(+1) - 1  # accepted: in flight until its answer is sent
        self._flying = True
        try:
            self._answer(service, req, path, request_id, others)
        finally:
            self._land()

    def _land(self) -> None:
        """The request leaves the count of those in flight (once): before its answer's last piece goes, as
        a client holding its whole answer may send the next at once, and must not find it still counted."""
        if getattr(self, "_flying", False):
            self._flying = False
            self.server.in_flight(-1)

    def _answer(self, service: Service, req: Accepted, path: str, request_id: str, others: int) -> None:
        """Number the accepted request, wait the latency, and answer it, or fail it with its fault."""
        config = self.server.config
        try:
            fault = self._fault(req, others)
            event = None
            if fault is Fault.ERROR_EVENT:
                event = self.server.router.dialect(path).body(event_error(config.faults), request_id)
            ctx = Context(str(uuid.uuid4()), int(time.time()), config.delta_bytes, config.answer_text,
                          broken=fault is Fault.DROP, error_event=event, detect_language=config.detect_language)
            reply = service.answer(req, ctx)
        except Exception as exc:
            self._refuse(exc, path, request_id)
            return
        dropped = ctx.broken or event is not None
        log.info("%s %s 200 model=%s stream=%s%s", self.command, path, req.model, req.stream,
                 ", cut off midway (fault)" if dropped else "")
        # Counted before the last byte goes: a client that has its whole answer then sees it counted.
        if not dropped:
            self.server.count("answered")
        if not self._reply(lambda: self._send(200, reply, request_id)) and not dropped:
            self.server.count("answered", -1)  # the client hung up first: not answered after all

    def _refuse(self, exc: Exception, path: str, request_id: str) -> None:
        """Answer ``exc`` as a JSON error in the path's dialect (a bug: a 500, as the service would)."""
        err = exc if isinstance(exc, ApiError) else None
        if err is None:  # rather than hang up
            log.exception("emulator failed on %s %s", self.command, path)
            err = ApiError(500, "The emulator failed; see its log.", None, code="internal_error")
        # Logged before answering so the line is there by the time the client has its answer.
        log.info("%s %s %d", self.command, path, err.status)
        body = self.server.router.dialect(path).body(err, request_id)
        self._reply(lambda: self._send(err.status, json_reply(body, err.headers), request_id))

    def _check(self, path: str) -> tuple[Service, Accepted]:
        """Read, route, authorize and check the request (a refusal raises ApiError)."""
        body = self._read_body()
        route = self.server.router.route(self.command, path)
        self.server.count("requests")
        self.server.capture(Captured(self.command, path, self.headers.get("Content-Type", ""), body))
        self._authorize()
        service, fields = route.pick(body)
        return service, service.check(fields)

    def _fault(self, req: Accepted, others: int) -> Fault | None:
        """Number the request, wait the latency, and raise its fault if it is answered with an error (a
        full concurrency quota is a 429 too); returns the fault its answer carries (a drop, an error event)."""
        faults = self.server.config.faults
        number = self.server.count("accepted")
        fault = faults.pick(number)
        if fault is None and 0 < faults.max_in_flight <= others:
            # the account's quota of requests answered at once is full: refused at once, before any model runs
            self.server.count(_FAULT_FIELD[Fault.RATE_LIMIT])
            log.info("request %d gets fault 429 (%d requests in flight)", number, others)
            raise fault_error(Fault.RATE_LIMIT, faults)
        if faults.latency:
            time.sleep(faults.latency)
        if fault is not None:
            self.server.count(_FAULT_FIELD[fault])
            log.info("request %d gets fault %s", number, fault.value)
            if fault is Fault.ERROR_EVENT and not req.stream:  # a plain answer fails before it is sent
                raise fault_error(Fault.SERVER_ERROR, faults)
            if fault not in (Fault.DROP, Fault.ERROR_EVENT):
                raise fault_error(fault, faults)
        return fault

    def _reply(self, send: Callable[[], None]) -> bool:
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

    def _send(self, status: int, reply: Reply, request_id: str) -> None:
        """Send ``reply``: with its length (the connection may stay open), or streamed until it closes."""
        self.send_response(status)
        self.send_header("Content-Type", reply.content_type)
        if reply.length is None:
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Connection", "close")  # no length up front: the body ends when it closes
            self.send_header("x-request-id", request_id)
        else:
            self.send_header("Content-Length", str(reply.length))
            self.send_header("x-request-id", request_id)
            for name, value in reply.headers:
                self.send_header(name, value)
            if self.close_connection or not reply.complete:
                self.send_header("Connection", "close")
        self.end_headers()
        pieces = iter(reply.pieces)
        piece = next(pieces, None)
        while piece is not None:
            usage = wire_usage(piece)
            if usage:  # counted before it goes, as answers are: a client holding it sees it counted
                for name, tokens in usage.items():
                    self.server.count(name, tokens)
            following = next(pieces, None)
            if following is None:
                self._land()
            self.wfile.write(piece)
            self.wfile.flush()
            piece = following
