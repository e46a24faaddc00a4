"""How an emulated service says no: ``ApiError`` carries what went wrong, a ``Dialect`` shapes it.

Validation raises one neutral ``ApiError`` (status, message, param, code, type, headers); the server
renders it in the dialect of the path it arrived on, so the same check reads right on every endpoint:

- ``DASHSCOPE``: the chat models behind DashScope's OpenAI-compatible endpoint repeat the request id
  in the body: ``{"error": {"code", "message", "type", "param"}, "request_id": ...}``.
- ``OPENAI``: OpenAI's own API (the ``/audio/*`` endpoints): ``{"error": {"message", "type", "param",
  "code"}}``; the request id travels only in the ``x-request-id`` header.

An error may read differently in another dialect (a 429 is DashScope's ``insufficient_quota`` but
OpenAI's ``rate_limit_exceeded``): ``ApiError.variants`` holds, per dialect name, the fields that differ.

Key order is part of the wire bytes, so each shape builds its dict in the order the service sends it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

__all__ = ["DASHSCOPE", "OPENAI", "ApiError", "Dialect"]


class ApiError(Exception):
    """A request the service would refuse (or a fault it injects), in no particular dialect yet."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 code: str | None = "invalid_parameter_error", kind: str = "invalid_request_error",
                 headers: Mapping[str, str] | None = None,
                 variants: Mapping[str, Mapping[str, str | None]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind
        self.headers = dict(headers or {})
        # dialect name -> {"message"/"type"/"code": value}: how this error reads in that dialect instead
        self.variants = {name: dict(fields) for name, fields in (variants or {}).items()}


@dataclass(frozen=True)
class Dialect:
    """One service family's error body; ``body(err, request_id)`` is the JSON object to send."""

    name: str
    body: Callable[[ApiError, str], dict]


def _dashscope(err: ApiError, request_id: str) -> dict:
    error = {"code": err.code, "message": err.message, "type": err.kind, "param": err.param}
    return {"error": error, "request_id": request_id}


def _openai(err: ApiError, request_id: str) -> dict:
    own = err.variants.get("openai", {})
    return {"error": {"message": own.get("message", err.message), "type": own.get("type", err.kind),
                      "param": err.param, "code": own.get("code", err.code)}}


DASHSCOPE = Dialect("dashscope", _dashscope)
OPENAI = Dialect("openai", _openai)
