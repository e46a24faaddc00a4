"""An offline stand-in for qwen3-livetranslate-flash behind the OpenAI-compatible endpoint.

It checks requests the way the service does, answers in the service's wire format (DashScope-shaped
errors, streamed text then audio deltas, a usage chunk) and returns deterministic placeholder text and
speech sized like the input's speech (see ``emulator_content``). Tests, benchmarks and demos run the
real openai SDK against it over loopback, with no network and no key.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import socket
import socketserver
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import urlsplit

from dubber import emulator_content as content
from dubber.languages import SUPPORTED

log = logging.getLogger(__name__)

DEFAULT_KEY = "sk-emulator"
API_PREFIX = "/compatible-mode/v1"
CHAT_PATH = API_PREFIX + "/chat/completions"
MODELS = frozenset({"qwen3-livetranslate-flash", "qwen3-livetranslate-flash-2025-12-01"})
MAX_BODY = 256 * 1024 * 1024  # far above any window dubber sends; stops a runaway client
POLL_S = 0.05  # how often the serving loop checks for stop(): bounds how long stopping takes
_LANGS = {**{code: code for code in SUPPORTED}, **{name.lower(): code for code, name in SUPPORTED.items()}}
_DATA_URL = re.compile(r"data:audio/[\w.+-]+;base64,(.*)", re.DOTALL)


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's answers; later options (faults, fixed text) go here."""

    keys: frozenset[str] = frozenset({DEFAULT_KEY})
    delta_bytes: int = 4801  # odd on purpose: audio deltas then split samples, as the service's may


class ApiError(Exception):
    """A request the service would refuse: becomes a DashScope-shaped JSON error."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 code: str = "invalid_parameter_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self, request_id: str) -> dict:
        error = {"code": self.code, "message": self.message, "type": "invalid_request_error",
                 "param": self.param}
        return {"error": error, "request_id": request_id}


def _check(ok: bool, message: str, param: str | None) -> None:
    if not ok:
        raise ApiError(400, message, param)


def _field(obj: dict, key: str, kind: type, where: str, default: Any = None) -> Any:
    """``obj[key]`` checked to be a ``kind``; ``default`` when absent or null."""
    value = obj.get(key)
    if value is None:
        return default
    _check(isinstance(value, kind), f"{where} must be of type {kind.__name__}", where)
    return value


def _audio_item(messages: Any) -> dict:
    """The one input_audio object of the one user message."""
    _check(isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], dict),
           "messages must hold exactly one user message", "messages")
    _check(messages[0].get("role") == "user", "the message's role must be user", "messages[0].role")
    items = messages[0].get("content")
    where = "messages[0].content"
    _check(isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict),
           f"{where} must be a list with exactly one item", where)
    kind = items[0].get("type")
    _check(kind != "video_url", "video input is not supported by the emulator", f"{where}[0].type")
    _check(kind == "input_audio", f"{where}[0].type must be input_audio", f"{where}[0].type")
    return _field(items[0], "input_audio", dict, f"{where}[0].input_audio", {})


def _decode_audio(item: dict) -> content.Audio:
    where = "messages[0].content[0].input_audio"
    data = _field(item, "data", str, f"{where}.data")
    _check(data is not None, f"{where}.data is required", f"{where}.data")
    _check(item.get("format") is not None, f"{where}.format is required", f"{where}.format")
    _check(not data.startswith(("http://", "https://")),
           "the emulator cannot fetch URLs; send a base64 data URL", f"{where}.data")
    match = _DATA_URL.fullmatch(data)
    _check(match is not None, "data must be a data URL: data:audio/<format>;base64,<data>", f"{where}.data")
    try:
        raw = base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "input audio is not valid base64", f"{where}.data") from exc
    try:
        return content.decode_wav(raw)
    except ValueError as exc:
        raise ApiError(400, f"unsupported audio: {exc}", f"{where}.data") from exc


def _language(options: dict, key: str) -> str | None:
    where = f"translation_options.{key}"
    value = _field(options, key, str, where)
    if value is None:
        return None
    code = _LANGS.get(value.strip().lower())
    _check(code is not None, f"unsupported language {value!r} in {where}", where)
    return code


def _voice(body: dict) -> str | None:
    """The requested voice, or None when only text is asked for."""
    modalities = _field(body, "modalities", list, "modalities", ["text"])
    _check(modalities in (["text"], ["text", "audio"], ["audio", "text"]),
           'modalities must be ["text"] or ["text", "audio"]', "modalities")
    if "audio" not in modalities:
        return None
    audio = _field(body, "audio", dict, "audio")
    _check(audio is not None, "audio is required when modalities includes audio", "audio")
    voice = _field(audio, "voice", str, "audio.voice")
    _check(voice is not None, "audio.voice is required", "audio.voice")
    _check(audio.get("format") == "wav", "only wav is supported as audio.format", "audio.format")
    return voice


def parse_request(raw: bytes) -> content.ChatRequest:
    """Validate a chat-completions body as the service would; raise ApiError on the first fault."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "request body is not valid JSON", None) from exc
    _check(isinstance(body, dict), "request body must be a JSON object", None)
    model = _field(body, "model", str, "model")
    _check(model is not None, "model is required", "model")
    if model not in MODELS:
        raise ApiError(404, f"The model `{model}` does not exist or you do not have access to it.",
                       "model", code="model_not_found")
    item = _audio_item(body.get("messages"))
    options = _field(body, "translation_options", dict, "translation_options", {})
    target = _language(options, "target_lang")
    _check(target is not None, "translation_options.target_lang is required", "translation_options.target_lang")
    _language(options, "source_lang")  # checked only: the placeholder does not depend on it
    voice = _voice(body)
    stream = _field(body, "stream", bool, "stream", False)
    stream_options = _field(body, "stream_options", dict, "stream_options", {})
    include_usage = _field(stream_options, "include_usage", bool, "stream_options.include_usage", False)
    # Decoded last, so that a bad parameter is refused without decoding megabytes of audio first.
    return content.ChatRequest(model=model, audio=_decode_audio(item), target_lang=target, voice=voice,
                               stream=stream, include_usage=stream and include_usage)


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
        self.requests = 0
        self._lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall for seconds offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; only the CLI decides where output goes.
        log.exception("emulator error while serving a request")

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1


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
        model = "-"
        try:
            body = self._read_body()
            if self.command != "POST" or path != CHAT_PATH:
                raise ApiError(404, f"Unknown path: {self.command} {path}", None, code="not_found")
            self.server.count_request()
            self._authorize()
            req = parse_request(body)
            model = req.model
            answer = content.Answer.for_request(req, str(uuid.uuid4()), int(time.time()))
        except Exception as exc:
            err = exc if isinstance(exc, ApiError) else None
            if err is None:  # a bug here: answer 500 as the service would, rather than hang up
                log.exception("emulator failed on %s %s", self.command, path)
                err = ApiError(500, "The emulator failed; see its log.", None, code="internal_error")
            # Logged before answering so the line is there by the time the client has its answer.
            log.info("%s %s %d model=%s", self.command, path, err.status, model)
            self._send_json(err.status, err.body(request_id), request_id)
            return
        log.info("%s %s 200 model=%s stream=%s", self.command, path, model, req.stream)
        if req.stream:
            self._send_stream(answer, request_id)
        else:
            self._send_json(200, answer.completion(), request_id)

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

    def _send_json(self, status: int, obj: dict, request_id: str) -> None:
        data = _json_bytes(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", request_id)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, answer: content.Answer, request_id: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        # No length is known up front: the body ends when the connection closes.
        self.send_header("Connection", "close")
        self.send_header("x-request-id", request_id)
        self.end_headers()
        try:
            for chunk in answer.chunks(self.server.config.delta_bytes):
                self.wfile.write(b"data: " + _json_bytes(chunk) + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client closed the stream early")


class Emulator:
    """The emulator bound to a port (``port=0``: any free one); ``base_url`` is ready at once.

    >>> with Emulator() as emu:  # doctest: +SKIP
    ...     client = OpenAI(api_key=DEFAULT_KEY, base_url=emu.base_url)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keys: Iterable[str] = (DEFAULT_KEY,),
                 delta_bytes: int = 4801) -> None:
        keys = frozenset(keys)
        if not keys or delta_bytes < 1:
            raise ValueError("the emulator needs at least one key and delta_bytes >= 1")
        self.config = EmulatorConfig(keys=keys, delta_bytes=delta_bytes)
        self._server = _Server(host, port, self.config)
        self._thread: threading.Thread | None = None
        self._serving = False
        bound_host, bound_port = self._server.server_address[:2]
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.base_url = f"http://{url_host}:{bound_port}{API_PREFIX}"

    @property
    def requests(self) -> int:
        """Chat-completions POSTs received so far, including refused ones."""
        return self._server.requests

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
