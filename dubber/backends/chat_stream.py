"""Reading a streamed chat completion, for every backend that asks the Qwen chat models for one.

The chat models (livetranslate, omni, asr) all answer as ``chat.completion.chunk`` streams: text deltas,
then audio deltas that are raw PCM16 mono at 24 kHz with no header (even though ``format: wav`` is
asked), each valid base64 on its own and not necessarily holding whole samples, then a usage chunk.
``collect_stream`` folds such a stream into one ``TranslationResult``; ``stream_chat`` sends a request
and maps whatever goes wrong onto dubber's error tree.
"""
from __future__ import annotations

import base64
import logging
import time
from typing import Any, Callable, Iterable, Mapping

import openai

from dubber.backends.openai_errors import mapped_errors
from dubber.errors import TransientError
from dubber.models import TranslationResult, Usage

log = logging.getLogger(__name__)

OUTPUT_RATE = 24000

__all__ = ["OUTPUT_RATE", "audio_delta_data", "collect_stream", "stream_chat"]


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


def collect_stream(chunks: Iterable[Any], deadline_s: float | None = None,
                   clock: Callable[[], float] = time.monotonic) -> TranslationResult:
    """Fold a stream of chat.completion.chunk objects into one result.

    Each audio delta is decoded on its own and the bytes joined, because deltas need not hold whole
    samples. A stream that ends before its finish chunk is an error: a partial answer is never used.
    An answer still streaming ``deadline_s`` after it began is abandoned (a passing fault, retried): the
    SDK's timeout only bounds each read, so a stream that trickles would otherwise hold a window for good.
    """
    text: list[str] = []
    pcm = bytearray()
    usage = None
    finish = None
    started = clock()
    for chunk in chunks:
        if deadline_s is not None and clock() - started > deadline_s:
            raise TransientError(f"the answer was still streaming after {deadline_s:g} s")
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


def stream_chat(client: openai.OpenAI, kwargs: Mapping[str, Any], window: int | None,
                deadline_s: float | None = None) -> TranslationResult:
    """Send ``kwargs`` to ``client.chat.completions.create`` (a streamed request) and fold the answer within
    ``deadline_s``; every failure, before or during the stream, comes out as a ``BackendError`` naming
    ``window``."""
    with mapped_errors(window):
        stream = client.chat.completions.create(**kwargs)
        with stream:
            return collect_stream(stream, deadline_s)
