"""qwen3-livetranslate-flash over the OpenAI-compatible chat completions API (seed document 000).

One request per window: exactly one user message holding one item, an ``input_audio`` whose ``data`` is
a base64 data URL of the window's WAV, or (``--input-mode video``) a ``video_url`` whose ``url`` is a data
URL of the window's short video clip; ``translation_options`` travels in ``extra_body``. Answers are
streamed: text deltas, then audio deltas that are raw PCM16 mono at 24 kHz with no header (even though
``format: wav`` is asked), each valid base64 on its own and not necessarily holding whole samples.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from dubber.backends import BackendConfig, BackendSpec, TranslateRequest, WindowMedia, data_url, endpoint_identity
from dubber.backends.chat_stream import stream_chat
from dubber.backends.omni import VOICES
from dubber.backends.openai_errors import openai_client
from dubber.models import TranslationResult

log = logging.getLogger(__name__)

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


class LiveTranslate:
    """The livetranslate backend: one streamed chat completion per window."""

    context_windows = 0  # it takes no instructions, so no context: windows go concurrently

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self._client = openai_client(config)

    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        return {"service": "livetranslate", "schema": REQUEST_SCHEMA, "input": self.config.input_mode,
                "endpoint": endpoint_identity(self.config.base_url), "model": self.config.model,
                "target": request.target.code, "source": request.source.code if request.source else None,
                "audio": request.want_audio, "voice": request.voice if request.want_audio else None}

    def translate(self, media: WindowMedia, request: TranslateRequest, *, window: int | None = None,
                  context: tuple[str, ...] = ()) -> TranslationResult:
        return stream_chat(self._client, build_request(media, request, self.config.model), window,
                           self.config.deadline_s)

SPEC = BackendSpec(
    name="livetranslate", family="dashscope", default_model="qwen3-livetranslate-flash", make=LiveTranslate,
    speaks=True, input_modes=frozenset({"audio", "video"}),
    # Its page lists no voices of its own (its example is Cherry): DashScope's, as qwen3-omni-flash lists them
    voices=VOICES,
    # 49,152 input tokens at 25 audio tokens a second; a video's frames take more, but windows are far shorter
    max_window_ms=30 * 60 * 1000, transcriber="asr",
    speaker="omni_speech",
)
