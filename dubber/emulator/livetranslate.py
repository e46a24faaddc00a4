"""qwen3-livetranslate-flash (seed document 000): checks a request as the service does, answers in its dialect.

``check_request`` is pure: the JSON body's fields in, a validated ``Request`` out, or the first fault
as an ``ApiError`` whose status, code and ``param`` match what the service answers (the body's JSON and
its ``model`` were already checked by the router). ``answer`` makes the placeholder translation and
frames it as the service streams it: the role chunk, text deltas, then audio deltas of ``delta_bytes``
with one data-less delta after the first, as the real service sometimes sends.

Video input (``video_url``, a base64 data URL of a clip) is answered from the clip's sound exactly as
audio input is; its usage adds the picture's ``video_tokens`` (see ``video``).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from dubber.emulator import chat, synth
from dubber.emulator.checks import check, field
from dubber.emulator.dialects import DASHSCOPE
from dubber.emulator.omni import VOICES as OMNI_VOICES
from dubber.emulator.service import Context, Reply, Service
from dubber.emulator.video import decode_video_url, with_video_tokens
from dubber.languages import SUPPORTED

__all__ = ["MODELS", "SERVICE", "Request", "Translation", "answer", "check_request"]

MODELS = frozenset({"qwen3-livetranslate-flash", "qwen3-livetranslate-flash-2025-12-01"})
_LANGS = {**{code: code for code in SUPPORTED}, **{name.lower(): code for code, name in SUPPORTED.items()}}


@dataclass(frozen=True)
class Request:
    """A validated request: only what the answer depends on."""

    model: str
    audio: synth.Audio
    target_lang: str
    voice: str | None  # None: text only
    stream: bool
    include_usage: bool
    video_tokens: int | None = None  # None: audio input


def _media_item(messages: Any) -> dict:
    """The one content item (input_audio or video_url) of the one user message."""
    check(isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], dict),
          "messages must hold exactly one user message", "messages")
    check(messages[0].get("role") == "user", "the message's role must be user", "messages[0].role")
    items = messages[0].get("content")
    where = "messages[0].content"
    check(isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict),
          f"{where} must be a list with exactly one item", where)
    kind = items[0].get("type")
    check(kind in ("input_audio", "video_url"), f"{where}[0].type must be input_audio or video_url",
          f"{where}[0].type")
    return items[0]


def _language(options: dict, key: str) -> str | None:
    where = f"translation_options.{key}"
    value = field(options, key, str, where)
    if value is None:
        return None
    code = _LANGS.get(value.strip().lower())
    check(code is not None, f"unsupported language {value!r} in {where}", where)
    return code


def _voice(body: Mapping[str, Any]) -> str | None:
    """The requested voice, or None when only text is asked for."""
    modalities = field(body, "modalities", list, "modalities", ["text"])
    check(modalities in (["text"], ["text", "audio"], ["audio", "text"]),
          'modalities must be ["text"] or ["text", "audio"]', "modalities")
    if "audio" not in modalities:
        return None
    audio = field(body, "audio", dict, "audio")
    check(audio is not None, "audio is required when modalities includes audio", "audio")
    voice = field(audio, "voice", str, "audio.voice")
    check(voice is not None, "audio.voice is required", "audio.voice")
    check(audio.get("format") == "wav", "only wav is supported as audio.format", "audio.format")
    # Its page lists no voices of its own (its example is Cherry): the family's, qwen3-omni-flash's list
    check(voice in OMNI_VOICES["qwen3-omni-flash"], f"voice {voice!r} is not supported", "audio.voice")
    return voice


def check_request(body: Mapping[str, Any]) -> Request:
    """Validate a chat-completions body (its ``model`` already routed here); raise ApiError on the first fault."""
    item = _media_item(body.get("messages"))
    options = field(body, "translation_options", dict, "translation_options", {})
    target = _language(options, "target_lang")
    check(target is not None, "translation_options.target_lang is required", "translation_options.target_lang")
    _language(options, "source_lang")  # checked only: the placeholder does not depend on it
    voice = _voice(body)
    stream = field(body, "stream", bool, "stream", False)
    stream_options = field(body, "stream_options", dict, "stream_options", {})
    include_usage = field(stream_options, "include_usage", bool, "stream_options.include_usage", False)
    # Decoded last, so that a bad parameter is refused without decoding megabytes of media first.
    where, video_tokens = "messages[0].content[0]", None
    if item["type"] == "video_url":
        clip = decode_video_url(field(item, "video_url", dict, f"{where}.video_url", {}), f"{where}.video_url")
        audio, video_tokens = clip.audio, clip.tokens
    else:
        audio = chat.decode_audio(field(item, "input_audio", dict, f"{where}.input_audio", {}),
                                  f"{where}.input_audio")
    return Request(model=body["model"], audio=audio, target_lang=target, voice=voice, stream=stream,
                   include_usage=stream and include_usage, video_tokens=video_tokens)


@dataclass(frozen=True)
class Translation:
    """The placeholder translation of one request, as ``chat.reply`` frames it."""

    request: Request
    text: str
    speech: chat.Speech

    def usage(self) -> dict:
        usage = chat.token_usage(self.request.audio.duration_ms, self.text, len(self.speech.pcm))
        if self.request.video_tokens is not None:
            usage = with_video_tokens(usage, self.request.video_tokens)
        return usage

    def message(self) -> dict:
        audio = None  # also when there is no speech: as in a stream, silence gives no audio at all
        if self.speech.pcm:
            audio = {"id": self.speech.audio_id, "data": base64.b64encode(self.speech.pcm).decode(),
                     "expires_at": self.speech.created, "transcript": self.text}
        return chat.message(self.text, audio)

    def deltas(self) -> Iterator[dict]:
        yield chat.delta("", "assistant")
        for piece in synth.text_pieces(self.text, self.request.target_lang):
            yield chat.delta(piece)
        for audio in self.speech.deltas():
            yield chat.delta(audio=audio)


def answer(req: Request, ctx: Context) -> Reply:
    """The placeholder translation of ``req``; ``ctx.answer_text`` replaces its text (even for silence),
    while the speech still follows the input."""
    text, speech = synth.placeholder_answer(req.audio, req.target_lang, req.voice, ctx.answer_text)
    translation = Translation(req, text, chat.Speech.of(speech, ctx))
    return chat.reply(chat.Envelope(ctx.answer_id, ctx.created, req.model), translation,
                      stream=req.stream, include_usage=req.include_usage, broken=ctx.broken,
                      error_event=ctx.error_event)


SERVICE = Service(name="livetranslate", path=chat.CHAT_PATH, models=MODELS, dialect=DASHSCOPE,
                  read=chat.read_body, check=check_request, answer=answer)
