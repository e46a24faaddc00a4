"""qwen3-asr-flash (seed document 001): checks a transcription request as the service does, and answers
the placeholder transcript with its ``audio_info`` annotation.

A request is one user message holding one ``input_audio`` whose ``data`` is a base64 data URL (the
document sends no ``format``), ``asr_options`` (``language``, ``enable_itn``) beside the standard fields,
and ``stream_options`` only when ``stream`` is true. Limits: the data URL within 10 MB, read as the
strictest 10,000,000 bytes so a client the emulator accepts is accepted under either reading; the audio
up to 5 minutes.

The transcript is placeholder text in the source language: ``asr_options.language`` when given, else
the language the emulator "detects" (``Context.detect_language``: one setting for every request, so
tests choose what is heard). A plain answer is the document's ``chat.completion`` key for key: the
message with its annotations, usage with ``seconds``. The document shows no streamed chunk, so a stream
is the chat-completions one (role, content deltas, finish, the usage chunk when asked) and carries no
annotations: the document shows them only on a plain answer's message.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from dubber.emulator import chat, synth
from dubber.emulator.checks import check, field
from dubber.emulator.dialects import DASHSCOPE
from dubber.emulator.service import Context, Reply, Service, json_reply
from dubber.languages import SUPPORTED

__all__ = ["MAX_AUDIO_MS", "MAX_DATA_URL", "MODELS", "SERVICE", "Request", "Transcript", "answer", "check_request"]

MODELS = frozenset({"qwen3-asr-flash"})
MAX_DATA_URL = 10_000_000  # characters of the data URL ("keep the encoded audio within the 10 MB limit")
MAX_AUDIO_MS = 5 * 60 * 1000
EMOTION = "neutral"  # the one emotion the document shows; placeholder speech has no mood to read
_ITEM = "messages[0].content[0]"


@dataclass(frozen=True)
class Request:
    """A validated request: only what the answer depends on."""

    model: str
    audio: synth.Audio
    language: str | None  # asr_options.language; None: the emulator detects it
    itn: bool  # checked only: placeholder words hold no numbers to write either way
    stream: bool
    include_usage: bool


def _audio_data(messages: Any) -> str:
    """The ``data`` of the one input_audio item of the one user message."""
    check(isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], dict),
          "messages must hold exactly one user message", "messages")
    check(messages[0].get("role") == "user", "the message's role must be user", "messages[0].role")
    items = messages[0].get("content")
    check(isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict),
          "messages[0].content must be a list with exactly one item", "messages[0].content")
    check(items[0].get("type") == "input_audio", f"{_ITEM}.type must be input_audio", f"{_ITEM}.type")
    audio = field(items[0], "input_audio", dict, f"{_ITEM}.input_audio", {})
    data = field(audio, "data", str, f"{_ITEM}.input_audio.data")
    check(data is not None, f"{_ITEM}.input_audio.data is required", f"{_ITEM}.input_audio.data")
    return data


def _options(body: Mapping[str, Any]) -> tuple[str | None, bool]:
    """``asr_options``' language (a code the service knows) and enable_itn (default false)."""
    options = field(body, "asr_options", dict, "asr_options", {})
    language = field(options, "language", str, "asr_options.language")
    check(language is None or language in SUPPORTED, f"unsupported language {language!r} in asr_options.language",
          "asr_options.language")
    return language, field(options, "enable_itn", bool, "asr_options.enable_itn", False)


def check_request(body: Mapping[str, Any]) -> Request:
    """Validate a chat-completions body (its ``model`` already routed here); raise ApiError on the first fault."""
    data = _audio_data(body.get("messages"))
    language, itn = _options(body)
    stream = field(body, "stream", bool, "stream", False)
    check(stream or body.get("stream_options") is None,
          "stream_options can only be set when stream is true", "stream_options")
    stream_options = field(body, "stream_options", dict, "stream_options", {})
    include_usage = field(stream_options, "include_usage", bool, "stream_options.include_usage", False)
    param = f"{_ITEM}.input_audio.data"
    check(len(data) <= MAX_DATA_URL, f"the audio data URL is {len(data):,} bytes; at most 10 MB is accepted", param)
    # Decoded last, so that a bad parameter is refused without decoding megabytes of audio first.
    audio = chat.audio_from_data_url(data, param)
    check(audio.duration_ms <= MAX_AUDIO_MS,
          f"the audio is {audio.duration_ms / 1000:.1f} s long; at most 5 minutes is accepted", param)
    return Request(model=body["model"], audio=audio, language=language, itn=itn, stream=stream,
                   include_usage=stream and include_usage)


@dataclass(frozen=True)
class Transcript:
    """The placeholder transcript of one request, framed plain (the document's shape) or streamed."""

    request: Request
    text: str
    language: str

    def usage(self) -> dict:
        """The document's usage: audio tokens in, text tokens out, and the audio's whole ``seconds``."""
        counts = chat.token_usage(self.request.audio.duration_ms, self.text, 0)  # the shared counting rules
        audio, text = counts["prompt_tokens"], counts["completion_tokens"]
        return {
            "completion_tokens": text,
            "completion_tokens_details": {"text_tokens": text},
            "prompt_tokens": audio,
            "prompt_tokens_details": {"audio_tokens": audio, "text_tokens": 0},
            "seconds": math.ceil(self.request.audio.duration_ms / 1000),
            "total_tokens": audio + text,
        }

    def message(self) -> dict:
        annotation = {"emotion": EMOTION, "language": self.language, "type": "audio_info"}
        return {"annotations": [annotation], "content": self.text, "role": "assistant"}

    def deltas(self) -> Iterator[dict]:
        yield {"content": "", "role": "assistant"}
        for piece in synth.text_pieces(self.text, self.language):
            yield {"content": piece, "role": None}

    def completion(self, env: chat.Envelope) -> dict:
        """The plain answer, key for key as the document shows it."""
        choice = {"finish_reason": "stop", "index": 0, "message": self.message()}
        return {"id": f"chatcmpl-{env.id}", "choices": [choice], "created": env.created, "model": env.model,
                "object": "chat.completion", "usage": self.usage()}


def answer(req: Request, ctx: Context) -> Reply:
    """The placeholder transcript of ``req`` in its source language; ``ctx.answer_text`` replaces the text."""
    language = req.language or ctx.detect_language
    text = ctx.answer_text
    if text is None:
        # "asr" in the seed: a transcript never repeats the words a translation into that language would get
        seed = synth.derive_seed(req.audio.pcm, language, "asr")
        text = synth.placeholder_text(synth.voiced_ms(req.audio.samples, req.audio.rate), language, seed)
    transcript = Transcript(req, text, language)
    env = chat.Envelope(ctx.answer_id, ctx.created, req.model)
    if req.stream:
        return chat.reply(env, transcript, stream=True, include_usage=req.include_usage, broken=ctx.broken,
                          error_event=ctx.error_event)
    return json_reply(transcript.completion(env), cut=ctx.broken)


SERVICE = Service(name="asr", path=chat.CHAT_PATH, models=MODELS, dialect=DASHSCOPE,
                  read=chat.read_body, check=check_request, answer=answer)
