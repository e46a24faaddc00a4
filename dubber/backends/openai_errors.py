"""The openai SDK as every backend uses it: one way to build its client, and its exceptions mapped onto
dubber's error tree.

dubber does not import the SDK's HTTP library: openai 3.x runs on ``httpx2`` and wraps a connection that
breaks mid-stream in ``APIConnectionError``; 1.x/2.x run on ``httpx`` and let its ``TransportError`` out
of a stream unwrapped. ``is_transport_error`` recognises the latter by its class, whichever library.
"""
from __future__ import annotations

import contextlib
import email.utils
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterator

import openai

from dubber.errors import AuthError, BackendError, RequestError, TransientError

if TYPE_CHECKING:
    from dubber.backends import BackendConfig

# Error codes retrying cannot cure, even when they arrive inside a stream (content moderation, bad input).
FAIL_FAST_CODES = frozenset({"data_inspection_failed", "invalid_parameter_error", "invalid_api_key"})
_HTTP_LIBRARIES = ("httpx", "httpx2")


def openai_client(config: "BackendConfig") -> openai.OpenAI:
    """The SDK client for ``config``: its own retries off, as dubber retries whole windows (streams
    included) with its backoff, its cache and its stop."""
    return openai.OpenAI(api_key=config.api_key, base_url=config.base_url, timeout=config.timeout_s,
                         max_retries=config.max_retries)


def is_transport_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the SDK's HTTP library's TransportError (a connection that broke)."""
    return any(cls.__name__ == "TransportError" and cls.__module__.split(".")[0] in _HTTP_LIBRARIES
               for cls in type(exc).__mro__)


def _service_message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or exc.message).strip()


def retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the service asked to wait (Retry-After / retry-after-ms headers), if it said."""
    headers = exc.response.headers if exc.response is not None else {}
    try:
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        if "retry-after" in headers:
            value = headers["retry-after"]
            try:
                return max(0.0, float(value))
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None
    return None


def map_error(exc: openai.OpenAIError, window: int | None) -> BackendError:
    """Turn an SDK exception into dubber's error tree (never carrying the key)."""
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return AuthError(f"the service rejected the API key ({exc.status_code}): check the key, and that "
                         "the base URL's region matches it", status=exc.status_code, window=window)
    if isinstance(exc, openai.APIStatusError) and exc.status_code < 500 and exc.status_code not in (408, 409, 429):
        return RequestError(f"the service rejected the request ({exc.status_code}): {_service_message(exc)}",
                            status=exc.status_code, window=window)
    if isinstance(exc, openai.APIStatusError):
        return TransientError(f"the service failed ({exc.status_code}): {_service_message(exc)}",
                              status=exc.status_code, window=window, retry_after=retry_after(exc))
    if isinstance(exc, openai.APITimeoutError):
        return TransientError("the request timed out", window=window)
    if isinstance(exc, openai.APIConnectionError):
        return TransientError("cannot reach the service (connection failed)", window=window)
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        code = getattr(exc, "code", None)
        if code in FAIL_FAST_CODES:
            return RequestError(f"the service refused the audio ({code}): {exc.message}", window=window)
        return TransientError(f"the service failed during the answer ({code or 'error'}): {exc.message}",
                              window=window)
    return BackendError(f"unexpected answer from the service: {type(exc).__name__}", window=window)


@contextlib.contextmanager
def mapped_errors(window: int | None) -> Iterator[None]:
    """Whatever the SDK (or its HTTP library) raises in the block comes out as dubber's error tree,
    naming ``window``: the one place every backend's request is wrapped."""
    try:
        yield
    except openai.OpenAIError as exc:
        raise map_error(exc, window) from exc
    except TransientError as exc:  # raised while reading an answer, before the window was known
        if exc.window is not None:
            raise
        raise TransientError(str(exc), window=window) from exc
    except Exception as exc:
        if is_transport_error(exc):  # openai 1.x/2.x: the connection broke while the answer was read
            raise TransientError("the connection broke during the answer", window=window) from exc
        raise
