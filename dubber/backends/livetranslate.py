"""qwen3-livetranslate-flash over the OpenAI-compatible chat completions API (seed document 000).

One request per window: exactly one user message holding one ``input_audio`` item whose ``data`` is a
base64 data URL of the window's WAV; ``translation_options`` travels in ``extra_body``. Answers are
streamed: text deltas, then audio deltas that are raw PCM16 mono at 24 kHz with no header (even though
``format: wav`` is asked), each valid base64 on its own and not necessarily holding whole samples.
"""
from __future__ import annotations

import base64
import email.utils
import logging
from datetime import datetime, timezone
from typing import Any, Iterable

import openai

try:  # openai 3.x runs on httpx2, earlier majors on httpx
    import httpx2 as httpx
except ImportError:  # pragma: no cover - depends on the installed openai major
    import httpx

from dubber.backends import BackendConfig, TranslateRequest
from dubber.errors import AuthError, BackendError, RequestError, TransientError
from dubber.models import TranslationResult, Usage

log = logging.getLogger(__name__)

OUTPUT_RATE = 24000
# Error codes retrying cannot cure, even when they arrive inside a stream (content moderation, bad input).
FAIL_FAST_CODES = frozenset({"data_inspection_failed", "invalid_parameter_error", "invalid_api_key"})


def build_request(wav: bytes, request: TranslateRequest, model: str) -> dict[str, Any]:
    """The keyword arguments for ``client.chat.completions.create`` (pure, so tests can read them)."""
    options = {"target_lang": request.target.code}
    if request.source is not None:
        options["source_lang"] = request.source.code
    data_url = "data:audio/wav;base64," + base64.b64encode(wav).decode("ascii")
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": data_url, "format": "wav"}},
        ]}],
        "modalities": ["text", "audio"] if request.want_audio else ["text"],
        "stream": True,
        "stream_options": {"include_usage": True},
        "extra_body": {"translation_options": options},
    }
    if request.want_audio:
        kwargs["audio"] = {"voice": request.voice, "format": "wav"}
    return kwargs


def audio_delta_data(delta: Any) -> str | None:
    """The base64 ``data`` of a delta's audio, whichever way the SDK represents it.

    openai 3.x types ``delta.audio`` as an object; 1.x/2.x keep it as a plain dict (an extra field).
    Some audio deltas carry no ``data`` at all.
    """
    audio = getattr(delta, "audio", None)
    if audio is None:
        extra = getattr(delta, "model_extra", None) or {}
        audio = extra.get("audio")
    if audio is None:
        return None
    if isinstance(audio, dict):
        return audio.get("data")
    return getattr(audio, "data", None)


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    return Usage(raw.prompt_tokens or 0, raw.completion_tokens or 0, raw.total_tokens or 0)


def collect_stream(chunks: Iterable[Any]) -> TranslationResult:
    """Fold a stream of chat.completion.chunk objects into one result.

    Each audio delta is decoded on its own and the bytes joined, because deltas need not hold whole
    samples. A stream that ends before its finish chunk is an error: a partial answer is never used.
    """
    text: list[str] = []
    pcm = bytearray()
    usage = None
    finish = None
    for chunk in chunks:
        if getattr(chunk, "usage", None) is not None:
            usage = _usage(chunk.usage)
        for choice in chunk.choices or ():
            if choice.delta is not None:
                if choice.delta.content:
                    text.append(choice.delta.content)
                data = audio_delta_data(choice.delta)
                if data:
                    pcm += base64.b64decode(data)
            finish = choice.finish_reason or finish
    if finish is None:
        raise TransientError("the answer stream ended before its finish chunk")
    if finish == "length":
        log.warning("the service cut a translation short (finish_reason=length)")
    if len(pcm) % 2:
        log.warning("audio ended on half a sample; dropping the last byte")
        del pcm[-1]
    return TranslationResult(text="".join(text).strip(), audio_pcm=bytes(pcm), audio_rate=OUTPUT_RATE, usage=usage)


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


class LiveTranslate:
    """The livetranslate backend: one streamed chat completion per window."""

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self._client = openai.OpenAI(api_key=config.api_key, base_url=config.base_url,
                                     timeout=config.timeout_s, max_retries=config.max_retries)

    def translate(self, wav: bytes, request: TranslateRequest, *, window: int | None = None) -> TranslationResult:
        kwargs = build_request(wav, request, self.config.model)
        try:
            stream = self._client.chat.completions.create(**kwargs)
            with stream:
                return collect_stream(stream)
        except openai.OpenAIError as exc:
            raise map_error(exc, window) from exc
        except httpx.TransportError as exc:  # the connection broke while the stream was being read
            raise TransientError("the connection broke during the answer", window=window) from exc
        except TransientError as exc:
            raise TransientError(str(exc), window=window) from exc
