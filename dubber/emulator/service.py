"""The contract between the server and the services it emulates.

A service is a value (``Service``): the path it is served on, the models it answers, the dialect of its
errors, and three steps the server runs in order: ``read`` the raw body into fields, ``check`` them into
an accepted request (or refuse with ``ApiError``), ``answer`` that request as a ``Reply``. Only the
HTTP plumbing lives in the server: JSON, event streams, and what a broken answer looks like are all
built by the service (most of it with the shared ``chat`` helpers), so a new endpoint never touches
the server.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Protocol

from dubber.emulator.dialects import Dialect

__all__ = ["API_PREFIX", "Accepted", "Captured", "Context", "Reply", "Service", "json_bytes", "json_reply"]

API_PREFIX = "/compatible-mode/v1"  # where DashScope serves its OpenAI-compatible API


class Accepted(Protocol):
    """What the server needs to know of any accepted request: enough for its log line."""

    model: str
    stream: bool


@dataclass(frozen=True)
class Captured:
    """A request as it arrived at a served path (refused ones too), so tests can check a client's wire
    format against the document. The Authorization header is never kept."""

    method: str
    path: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Context:
    """What an answer may depend on besides the request: fresh ids and the emulator's settings."""

    answer_id: str
    created: int  # Unix seconds
    delta_bytes: int  # audio bytes per streamed delta
    answer_text: str | None  # answered instead of the placeholder text; None: the placeholder
    broken: bool = False  # the drop fault: answer only part, as a connection breaking midway would
    error_event: dict | None = None  # the error-event fault: part of the stream, then this error object
    detect_language: str = "en"  # what a transcriber "detects" when the request names no language


@dataclass(frozen=True)
class Reply:
    """An answer as HTTP bytes; the server sends it as is, piece by piece.

    ``pieces`` may be a generator (a long stream is made while it is sent), so a reply is sent once.
    """

    content_type: str
    pieces: Iterable[bytes]  # written and flushed one at a time
    length: int | None = None  # Content-Length; None: a stream that ends when the connection closes
    headers: tuple[tuple[str, str], ...] = ()
    complete: bool = True  # False: fewer bytes than ``length`` follow, then the connection closes


@dataclass(frozen=True)
class Service:
    """One emulated API: registered once in ``routing.SERVICES``.

    Services sharing a path must share ``read`` and ``dialect``: the path's body is read, and its early
    errors shaped, before the body's ``model`` field says which of them the request is for.
    """

    name: str
    path: str
    models: frozenset[str]
    dialect: Dialect
    read: Callable[[bytes], Mapping[str, Any]]  # raw body -> fields (with "model"); raises ApiError
    check: Callable[[Mapping[str, Any]], Accepted]  # fields -> a valid request; raises ApiError
    answer: Callable[[Any, Context], Reply]  # the accepted request -> its reply


def json_bytes(obj: dict) -> bytes:
    """Compact JSON, non-ASCII kept as UTF-8, as the services send it. Text UTF-8 cannot carry (a lone
    surrogate, as a model may emit) goes as JSON's ``\\uXXXX`` escapes instead, which is still valid JSON."""
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode()


def json_reply(obj: dict, headers: Mapping[str, str] | None = None, cut: bool = False) -> Reply:
    """``obj`` as a JSON reply; ``cut``: announce its full length but send only the first half."""
    data = json_bytes(obj)
    return Reply("application/json", (data[: len(data) // 2] if cut else data,), length=len(data),
                 headers=tuple((headers or {}).items()), complete=not cut)


_TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens")


def wire_usage(piece: bytes) -> dict[str, int] | None:
    """The token counts a piece of an answer carries on the wire (a whole JSON body, or one event of a
    stream), else None. Audio is base64 and text is JSON-escaped, so only a key can read ``"usage"``.

    >>> wire_usage(b'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}\\n\\n')
    {'prompt_tokens': 3, 'completion_tokens': 2, 'total_tokens': 5}
    >>> wire_usage(b'data: {"choices": [{"delta": {"content": "usage"}}]}\\n\\n') is None
    True
    """
    if b'"usage"' not in piece:
        return None
    text = piece.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text[len("data:"):] if text.startswith("data:") else text)
    except ValueError:  # a body cut short by the drop fault: its usage never arrives whole
        return None
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return None
    found = {name: usage[name] for name in _TOKENS if isinstance(usage.get(name), int)}
    return found or None
