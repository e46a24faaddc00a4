"""The chat-completions wire format the Qwen chat models share (livetranslate today; omni and asr next).

A chat service validates its own fields and decides what its answer says; this module frames it:
the JSON body read from the wire, input audio from a base64 data URL, the ``chat.completion`` object,
the ``chat.completion.chunk`` stream with its finish and usage chunks and ``[DONE]``, and the broken
answers of the drop fault. Key order is part of the bytes: dicts are built in the order the service
sends them.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol

from dubber.emulator import synth
from dubber.emulator.checks import check, field
from dubber.emulator.dialects import ApiError
from dubber.emulator.service import API_PREFIX, Context, Reply, json_bytes, json_reply

__all__ = ["CHAT_PATH", "Content", "Envelope", "audio_from_data_url", "decode_audio", "delta", "event_stream",
           "message", "read_body", "reply", "token_usage"]

CHAT_PATH = API_PREFIX + "/chat/completions"
_DATA_URL = re.compile(r"data:audio/[\w.+-]+;base64,(.*)", re.DOTALL)


def read_body(raw: bytes) -> dict:
    """The request body as a JSON object: every chat service's ``read``."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "request body is not valid JSON", None) from exc
    check(isinstance(body, dict), "request body must be a JSON object", None)
    return body


def decode_audio(item: dict, where: str) -> synth.Audio:
    """The audio of an ``input_audio`` object (``where`` names it in errors): a base64 WAV data URL."""
    data = field(item, "data", str, f"{where}.data")
    check(data is not None, f"{where}.data is required", f"{where}.data")
    check(item.get("format") is not None, f"{where}.format is required", f"{where}.format")
    return audio_from_data_url(data, f"{where}.data")


def audio_from_data_url(data: str, param: str) -> synth.Audio:
    """The audio a base64 WAV data URL holds (``param`` names the field in errors). For services whose
    ``input_audio`` takes no ``format`` (qwen3-asr-flash), and under ``decode_audio``."""
    check(not data.startswith(("http://", "https://")), "the emulator cannot fetch URLs; send a base64 data URL",
          param)
    match = _DATA_URL.fullmatch(data)
    check(match is not None, "data must be a data URL: data:audio/<format>;base64,<data>", param)
    try:
        raw = base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "input audio is not valid base64", param) from exc
    try:
        return synth.decode_wav(raw)
    except ValueError as exc:
        raise ApiError(400, f"unsupported audio: {exc}", param) from exc


def token_usage(input_ms: int, text: str, speech_bytes: int) -> dict:
    """Token counts shaped like the service's: 25 input audio tokens a second, 12.5 output ones."""
    prompt = math.ceil(input_ms / 40)
    text_tokens = len(re.findall(r"[\u3000-\u9fff]|\w+|[^\w\s]", text))
    audio_tokens = math.ceil(speech_bytes / 2 / synth.OUTPUT_RATE * 12.5)
    completion = text_tokens + audio_tokens
    return {
        "completion_tokens": completion,
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens_details": {
            "accepted_prediction_tokens": None,
            "audio_tokens": audio_tokens,
            "reasoning_tokens": None,
            "rejected_prediction_tokens": None,
            "text_tokens": text_tokens,
        },
        "prompt_tokens_details": {
            "audio_tokens": prompt,
            "cached_tokens": None,
            "text_tokens": 0,
            "video_tokens": None,
        },
    }


def delta(content: str | None = None, role: str | None = None, audio: dict | None = None) -> dict:
    """One streamed delta; the service sends all three keys, null when unused."""
    return {"content": content, "role": role, "audio": audio}


def message(content: str, audio: dict | None) -> dict:
    """The assistant message of a plain (non-streamed) answer."""
    return {"role": "assistant", "content": content, "audio": audio, "reasoning_content": None,
            "function_call": None, "refusal": None, "tool_calls": None}


class Content(Protocol):
    """What a chat service's answer says, in both forms a client may ask for."""

    def message(self) -> dict: ...  # the plain answer's message
    def deltas(self) -> Iterator[dict]: ...  # the stream's deltas, before the finish chunk
    def usage(self) -> dict: ...


@dataclass(frozen=True)
class Envelope:
    """What every chunk of one answer repeats: its id, creation time and model."""

    id: str
    created: int
    model: str

    def chunk(self, delta: dict | None, finish: str | None = None) -> dict:
        """A ``chat.completion.chunk``; ``delta`` None: no choices (the usage chunk's shape)."""
        choices = [] if delta is None else [{"delta": delta, "finish_reason": finish, "index": 0}]
        return {"id": f"chatcmpl-{self.id}", "choices": choices, "created": self.created,
                "model": self.model, "object": "chat.completion.chunk"}

    def completion(self, message: dict, usage: dict) -> dict:
        """A whole ``chat.completion``."""
        choice = {"index": 0, "finish_reason": "stop", "message": message, "logprobs": None}
        return {"id": f"chatcmpl-{self.id}", "object": "chat.completion", "created": self.created,
                "model": self.model, "choices": [choice], "usage": usage,
                "service_tier": None, "system_fingerprint": None}


def event_stream(events: Iterable[dict], done: bool = True) -> Reply:
    """Server-sent events, one ``data:`` line per event, then ``[DONE]`` unless the stream breaks off."""
    def pieces() -> Iterator[bytes]:
        for event in events:
            yield b"data: " + json_bytes(event) + b"\n\n"
        if done:
            yield b"data: [DONE]\n\n"

    return Reply("text/event-stream", pieces(), headers=(("Cache-Control", "no-cache"),), complete=done)


def _chunks(env: Envelope, content: Content, include_usage: bool) -> Iterator[dict]:
    for d in content.deltas():
        yield env.chunk(d)
    yield env.chunk(delta(), finish="stop")
    if include_usage:
        yield {**env.chunk(None), "usage": content.usage()}


def reply(env: Envelope, content: Content, *, stream: bool, include_usage: bool, broken: bool,
          error_event: dict | None = None) -> Reply:
    """The answer as the client asked for it (streamed or plain), broken off midway, or failing midway.

    Broken: a plain answer sends half its JSON; a stream sends the first half of its content chunks
    (at least the role chunk), and never the finish chunk, the usage or ``[DONE]``. With an
    ``error_event`` (streams only), that half is followed by one event whose data is the error object.
    """
    if not stream:
        return json_reply(env.completion(content.message(), content.usage()), cut=broken)
    if broken or error_event is not None:
        chunks = [env.chunk(d) for d in content.deltas()]
        half = chunks[: max(1, len(chunks) // 2)]
        return event_stream(half + ([error_event] if error_event is not None else []), done=False)
    return event_stream(_chunks(env, content, include_usage))


@dataclass(frozen=True)
class Speech:
    """A speaking model's answer speech (raw 24 kHz PCM16) and what each of its audio deltas repeats."""

    pcm: bytes
    audio_id: str
    created: int
    delta_bytes: int

    @classmethod
    def of(cls, pcm: bytes, ctx: Context) -> "Speech":
        return cls(pcm, f"audio_{ctx.answer_id}", ctx.created, ctx.delta_bytes)

    def deltas(self) -> Iterator[dict]:
        """The ``delta.audio`` objects that stream it: ``delta_bytes`` a piece, each base64-encoded on its
        own, with its own padding, as the services send them, and one piece without ``data`` after the
        first, as they sometimes send (clients must skip it)."""
        meta = {"expires_at": self.created, "id": self.audio_id}
        for i, start in enumerate(range(0, len(self.pcm), self.delta_bytes)):
            yield {"data": base64.b64encode(self.pcm[start:start + self.delta_bytes]).decode(), **meta}
            if i == 0:
                yield dict(meta)
