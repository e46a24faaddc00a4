"""OpenAI's text to speech, ``POST /v1/audio/speech`` ("Create a voice" in seed document 004).

A JSON body: ``model`` (tts-1, tts-1-hd, gpt-4o-mini-tts), ``input`` (at most 4096 characters),
``voice``, ``response_format`` (mp3, opus, aac, flac, wav, pcm; default mp3), ``speed`` (0.25-4.0,
default 1); the answer is the audio file's bytes. ``pcm`` is raw 24 kHz 16-bit mono little-endian
samples, ``wav`` the same inside a WAV header. The emulator cannot encode the compressed formats, so
it refuses them with a note saying so (the service would answer them).

``voice`` is one of *that model's* built-in voices (``VOICES``): OpenAI's text-to-speech guide gives
tts-1 and tts-1-hd nine, and gpt-4o-mini-tts those and ballad, verse, marin and cedar (the API reference
lists all thirteen without saying which model takes which). A custom voice object
(``{"id": "voice_..."}``) is refused: the emulator has none.

The placeholder speech lasts as long as the text takes to read aloud (``synth.reading_ms``: about 14
characters a second in alphabetic scripts, 4 in Chinese and Japanese, 6 Hangul syllables), divided by
``speed``; the same request always gives the same bytes.
"""
from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from typing import Any, Mapping

from dubber.emulator import synth
from dubber.emulator.dialects import OPENAI
from dubber.emulator.openai_audio import AUDIO_PREFIX, byte_reply, invalid, missing, read_json, with_model
from dubber.emulator.service import Context, Reply, Service

__all__ = ["MAX_INPUT", "MODELS", "SERVICE", "VOICES", "Request", "answer", "check_request"]

_TTS1_VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")
# The built-in voices each model takes.
VOICES: dict[str, tuple[str, ...]] = {
    "tts-1": _TTS1_VOICES,
    "tts-1-hd": _TTS1_VOICES,
    "gpt-4o-mini-tts": _TTS1_VOICES + ("ballad", "verse", "marin", "cedar"),
}
MODELS = frozenset(VOICES)
AUDIO_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
ANSWERED_FORMATS = {"pcm": "audio/pcm", "wav": "audio/wav"}  # the ones the emulator can make
MAX_INPUT = 4096  # characters


@dataclass(frozen=True)
class Request:
    """A validated request: only what the answer depends on."""

    model: str
    input: str
    voice: str
    response_format: str
    speed: float
    stream: bool = False  # the answer is sent whole; the server's log line reads it


def _string(body: Mapping[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            missing(name)
        return None
    if not isinstance(value, str):
        invalid(f"Invalid type for '{name}': expected a string, but got {type(value).__name__} instead.",
                name, "invalid_type")
    return value


def _speed(body: Mapping[str, Any]) -> float:
    speed = body.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, (int, float)):
        invalid("Invalid type for 'speed': expected a number.", "speed", "invalid_type")
    if not 0.25 <= speed <= 4.0:
        invalid(f"Invalid value for 'speed': {speed} is outside 0.25-4.0.", "speed")
    return float(speed)


def _format(body: Mapping[str, Any]) -> str:
    fmt = _string(body, "response_format") or "mp3"
    if fmt not in AUDIO_FORMATS:
        invalid(f"Invalid value: '{fmt}'. Supported values are: {', '.join(repr(f) for f in AUDIO_FORMATS)}.",
                "response_format")
    if fmt not in ANSWERED_FORMATS:
        invalid(f"the emulator answers only response_format pcm or wav, not {fmt!r}", "response_format")
    return fmt


def check_request(body: Mapping[str, Any]) -> Request:
    """Validate a speech body (its ``model`` already routed here); raise ApiError on the first fault."""
    text = _string(body, "input", required=True)
    if not text.strip():
        invalid("'input' must not be empty.", "input")
    if len(text) > MAX_INPUT:
        invalid(f"Invalid 'input': string too long. Expected a string with maximum length {MAX_INPUT}, but got "
                f"a string with length {len(text)} instead.", "input", "string_above_max_length")
    voice = _string(body, "voice", required=True)
    voices = VOICES[body["model"]]
    if voice not in voices:
        invalid(f"Invalid value: '{voice}'. Supported values are: {', '.join(repr(v) for v in voices)}.", "voice")
    _string(body, "instructions")  # checked only: placeholder speech has no tone to set
    if body.get("stream_format", "audio") != "audio":
        invalid("the emulator answers only stream_format 'audio' (the whole file)", "stream_format")
    return Request(body["model"], text, voice, _format(body), _speed(body))


def read_body(raw: bytes) -> dict[str, Any]:
    """The JSON body's fields, with their ``model``."""
    return with_model(read_json(raw))


def speech_pcm(req: Request) -> bytes:
    """The placeholder speech: 24 kHz PCM16 mono, as long as reading ``req.input`` at ``req.speed`` takes
    (never empty: the input holds a character at least)."""
    seed = synth.derive_seed(req.input.encode(), req.model, f"{req.voice}@{req.speed:g}")
    return synth.read_aloud(req.input, seed, req.speed)


def wav_file(pcm: bytes, rate: int = synth.OUTPUT_RATE) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buf.getvalue()


def answer(req: Request, ctx: Context) -> Reply:
    """The speech of ``req`` as the asked file; ``ctx.broken`` (drop fault): half of it, then the end."""
    pcm = speech_pcm(req)
    data = wav_file(pcm) if req.response_format == "wav" else pcm
    return byte_reply(ANSWERED_FORMATS[req.response_format], data, ctx.broken)


SERVICE = Service(name="speech", path=AUDIO_PREFIX + "/speech", models=MODELS, dialect=OPENAI,
                  read=read_body, check=check_request, answer=answer)
