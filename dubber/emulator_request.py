"""Checking a chat-completions request the way qwen3-livetranslate-flash does (seed document 000).

``parse_request`` is pure: raw body bytes in, a validated ``ChatRequest`` out, or the first fault as an
``ApiError`` whose status, code and ``param`` match what the service answers.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Mapping

from dubber import emulator_content as content
from dubber.languages import SUPPORTED

MODELS = frozenset({"qwen3-livetranslate-flash", "qwen3-livetranslate-flash-2025-12-01"})
_LANGS = {**{code: code for code in SUPPORTED}, **{name.lower(): code for code, name in SUPPORTED.items()}}
_DATA_URL = re.compile(r"data:audio/[\w.+-]+;base64,(.*)", re.DOTALL)


class ApiError(Exception):
    """A request the service would refuse (or a fault it injects): becomes a DashScope-shaped JSON error."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 code: str = "invalid_parameter_error", kind: str = "invalid_request_error",
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind
        self.headers = dict(headers or {})

    def body(self, request_id: str) -> dict:
        error = {"code": self.code, "message": self.message, "type": self.kind, "param": self.param}
        return {"error": error, "request_id": request_id}


def _check(ok: bool, message: str, param: str | None) -> None:
    if not ok:
        raise ApiError(400, message, param)


def _field(obj: dict, key: str, kind: type, where: str, default: Any = None) -> Any:
    """``obj[key]`` checked to be a ``kind``; ``default`` when absent or null."""
    value = obj.get(key)
    if value is None:
        return default
    _check(isinstance(value, kind), f"{where} must be of type {kind.__name__}", where)
    return value


def _audio_item(messages: Any) -> dict:
    """The one input_audio object of the one user message."""
    _check(isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], dict),
           "messages must hold exactly one user message", "messages")
    _check(messages[0].get("role") == "user", "the message's role must be user", "messages[0].role")
    items = messages[0].get("content")
    where = "messages[0].content"
    _check(isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict),
           f"{where} must be a list with exactly one item", where)
    kind = items[0].get("type")
    _check(kind != "video_url", "video input is not supported by the emulator", f"{where}[0].type")
    _check(kind == "input_audio", f"{where}[0].type must be input_audio", f"{where}[0].type")
    return _field(items[0], "input_audio", dict, f"{where}[0].input_audio", {})


def _decode_audio(item: dict) -> content.Audio:
    where = "messages[0].content[0].input_audio"
    data = _field(item, "data", str, f"{where}.data")
    _check(data is not None, f"{where}.data is required", f"{where}.data")
    _check(item.get("format") is not None, f"{where}.format is required", f"{where}.format")
    _check(not data.startswith(("http://", "https://")),
           "the emulator cannot fetch URLs; send a base64 data URL", f"{where}.data")
    match = _DATA_URL.fullmatch(data)
    _check(match is not None, "data must be a data URL: data:audio/<format>;base64,<data>", f"{where}.data")
    try:
        raw = base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "input audio is not valid base64", f"{where}.data") from exc
    try:
        return content.decode_wav(raw)
    except ValueError as exc:
        raise ApiError(400, f"unsupported audio: {exc}", f"{where}.data") from exc


def _language(options: dict, key: str) -> str | None:
    where = f"translation_options.{key}"
    value = _field(options, key, str, where)
    if value is None:
        return None
    code = _LANGS.get(value.strip().lower())
    _check(code is not None, f"unsupported language {value!r} in {where}", where)
    return code


def _voice(body: dict) -> str | None:
    """The requested voice, or None when only text is asked for."""
    modalities = _field(body, "modalities", list, "modalities", ["text"])
    _check(modalities in (["text"], ["text", "audio"], ["audio", "text"]),
           'modalities must be ["text"] or ["text", "audio"]', "modalities")
    if "audio" not in modalities:
        return None
    audio = _field(body, "audio", dict, "audio")
    _check(audio is not None, "audio is required when modalities includes audio", "audio")
    voice = _field(audio, "voice", str, "audio.voice")
    _check(voice is not None, "audio.voice is required", "audio.voice")
    _check(audio.get("format") == "wav", "only wav is supported as audio.format", "audio.format")
    return voice


def parse_request(raw: bytes) -> content.ChatRequest:
    """Validate a chat-completions body as the service would; raise ApiError on the first fault."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "request body is not valid JSON", None) from exc
    _check(isinstance(body, dict), "request body must be a JSON object", None)
    model = _field(body, "model", str, "model")
    _check(model is not None, "model is required", "model")
    if model not in MODELS:
        raise ApiError(404, f"The model `{model}` does not exist or you do not have access to it.",
                       "model", code="model_not_found")
    item = _audio_item(body.get("messages"))
    options = _field(body, "translation_options", dict, "translation_options", {})
    target = _language(options, "target_lang")
    _check(target is not None, "translation_options.target_lang is required", "translation_options.target_lang")
    _language(options, "source_lang")  # checked only: the placeholder does not depend on it
    voice = _voice(body)
    stream = _field(body, "stream", bool, "stream", False)
    stream_options = _field(body, "stream_options", dict, "stream_options", {})
    include_usage = _field(stream_options, "include_usage", bool, "stream_options.include_usage", False)
    # Decoded last, so that a bad parameter is refused without decoding megabytes of audio first.
    return content.ChatRequest(model=model, audio=_decode_audio(item), target_lang=target, voice=voice,
                               stream=stream, include_usage=stream and include_usage)
