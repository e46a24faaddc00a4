"""qwen3-livetranslate-flash over the OpenAI-compatible chat completions API (seed document 000).

One request per window: exactly one user message holding one item, an ``input_audio`` whose ``data`` is
a base64 data URL of the window's WAV, or (``--input-mode video``) a ``video_url`` whose ``url`` is a data
URL of the window's short video clip; ``translation_options`` travels in ``extra_body``. Answers are
streamed: text deltas, then audio deltas that are raw PCM16 mono at 24 kHz with no header (even though
``format: wav`` is asked), each valid base64 on its own and not necessarily holding whole samples.
"""
from __future__ import annotations

import base64
import logging
from typing import Any, Iterable, Mapping

import openai

from dubber.backends import BackendConfig, BackendSpec, TranslateRequest, WindowMedia, data_url, endpoint_identity
from dubber.backends.openai_errors import is_transport_error, map_error
from dubber.errors import TransientError
from dubber.models import TranslationResult, Usage

log = logging.getLogger(__name__)

OUTPUT_RATE = 24000
# The version of the request ``build_request`` sends: bump it when a change there could change answers,
# so cached answers to the old request are not served for the new one.
REQUEST_SCHEMA = 1


def media_item(media: WindowMedia) -> dict[str, Any]:
    """The one content item of the user message: the window's audio, or its video clip."""
    if media.mime.startswith("video/"):
        return {"type": "video_url", "video_url": {"url": data_url(media)}}
    return {"type": "input_audio", "input_audio": {"data": data_url(media), "format": media.mime.split("/")[-1]}}


def build_request(media: WindowMedia, request: TranslateRequest, model: str) -> dict[str, Any]:
    """The keyword arguments for ``client.chat.completions.create`` (pure, so tests can read them)."""
    options = {"target_lang": request.target.code}
    if request.source is not None:
        options["source_lang"] = request.source.code
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": [media_item(media)]}],
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


class LiveTranslate:
    """The livetranslate backend: one streamed chat completion per window."""

    context_windows = 0  # it takes no instructions, so no context: windows go concurrently

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self._client = openai.OpenAI(api_key=config.api_key, base_url=config.base_url,
                                     timeout=config.timeout_s, max_retries=config.max_retries)

    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        return {"service": "livetranslate", "schema": REQUEST_SCHEMA, "input": self.config.input_mode,
                "endpoint": endpoint_identity(self.config.base_url), "model": self.config.model,
                "target": request.target.code, "source": request.source.code if request.source else None,
                "audio": request.want_audio, "voice": request.voice if request.want_audio else None}

    def translate(self, media: WindowMedia, request: TranslateRequest, *, window: int | None = None,
                  context: tuple[str, ...] = ()) -> TranslationResult:
        kwargs = build_request(media, request, self.config.model)
        try:
            stream = self._client.chat.completions.create(**kwargs)
            with stream:
                return collect_stream(stream)
        except openai.OpenAIError as exc:
            raise map_error(exc, window) from exc
        except TransientError as exc:
            raise TransientError(str(exc), window=window) from exc
        except Exception as exc:
            if is_transport_error(exc):  # openai 1.x/2.x: the connection broke while the stream was read
                raise TransientError("the connection broke during the answer", window=window) from exc
            raise


SPEC = BackendSpec(
    name="livetranslate", family="dashscope", default_model="qwen3-livetranslate-flash", make=LiveTranslate,
    speaks=True, input_modes=frozenset({"audio", "video"}),
    # 49,152 input tokens at 25 audio tokens a second; a video's frames take more, but windows are far shorter
    max_window_ms=30 * 60 * 1000, transcriber="asr",
)
