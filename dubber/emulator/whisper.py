"""Whisper over OpenAI's ``/v1/audio/translations`` and ``/v1/audio/transcriptions`` (seed documents 002, 004).

A multipart form: ``file`` (required; flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm; at most 25 MB),
``model`` (required; ``whisper-1``), ``prompt``, ``response_format`` (json, text, srt, verbose_json, vtt;
default json), ``temperature`` (0-1); transcriptions also take ``language`` (ISO-639-1). A translation
answers in English; a transcription in ``language``, else in the language the emulator "detects"
(``Context.detect_language``, one setting shared with the other transcribers, English by default: a
placeholder cannot hear). Only WAV can be decoded here, so other accepted formats are refused with a
note that the emulator cannot decode them.

The answer is timed like Whisper's: one segment per run of voiced audio (pauses shorter than
``SEGMENT_GAP_MS`` stay inside a segment, runs longer than ``MAX_SEGMENT_MS`` are cut evenly), on 20 ms
steps as Whisper's timestamps are, each with placeholder text sized by its voiced length. A file over
25 MB is a 413 (Payload Too Large), as OpenAI's API answers an oversized upload; the document gives
only the limit.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import langcodes
import numpy as np

from dubber.emulator import synth
from dubber.emulator.dialects import OPENAI
from dubber.emulator.openai_audio import (AUDIO_PREFIX, Upload, byte_reply, invalid, missing, read_form,
                                           with_model)
from dubber.emulator.service import Context, Reply, Service, json_reply
from dubber.languages import CJK

__all__ = ["MAX_FILE_BYTES", "MODELS", "TRANSCRIPTIONS", "TRANSLATIONS", "Request", "Segment", "answer",
           "check_transcription", "check_translation", "segments", "voiced_runs"]

MODELS = frozenset({"whisper-1"})
FILE_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "ogg", "wav", "webm")  # 002 + 004 (flac, ogg)
RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
MAX_FILE_BYTES = 25 * 1024 * 1024  # the 25 MB the documents give, as OpenAI counts it (26214400 bytes)
SEGMENT_GAP_MS = 400  # a pause this long ends a segment (pauses inside sentences are mostly shorter)
MAX_SEGMENT_MS = 10_000  # Whisper's segments are about a sentence long
MIN_RUN_MS = 100  # shorter voiced runs are clicks, not words
_WAV_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"})


@dataclass(frozen=True)
class Request:
    """A validated request: only what the answer depends on."""

    model: str
    task: str  # "translate" or "transcribe"
    audio: synth.Audio
    language: str | None  # the code of the answer's language; None: as "detected" (Context.detect_language)
    response_format: str
    stream: bool = False  # these endpoints answer whole; the server's log line reads it


@dataclass(frozen=True)
class Segment:
    start_ms: int
    end_ms: int
    text: str  # as Whisper writes it: with a leading space in space-separated scripts
    voiced_ms: int


def read_upload(raw: bytes) -> dict[str, Any]:
    """The form's fields, with their ``model``."""
    return with_model(read_form(raw))


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        invalid(f"'{name}' must be a string, not a file", name)
    return value


def _file_format(upload: Upload) -> str:
    """The upload's format: its filename's extension, else its content type."""
    if upload.filename and "." in upload.filename:
        return upload.filename.rsplit(".", 1)[1].lower()
    return "wav" if upload.content_type in _WAV_TYPES else upload.content_type.split("/")[-1]


def _file(fields: Mapping[str, Any]) -> Upload:
    upload = fields.get("file")
    if upload is None:
        missing("file")
    if not isinstance(upload, Upload):
        invalid("'file' must be a file upload (multipart/form-data), not a string", "file")
    if len(upload.data) > MAX_FILE_BYTES:
        invalid(f"Maximum content size limit ({MAX_FILE_BYTES}) exceeded ({len(upload.data)} bytes read)",
                "file", None, status=413)
    if _file_format(upload) not in FILE_FORMATS:
        invalid(f"Invalid file format. Supported formats: {list(FILE_FORMATS)}", "file")
    return upload


def _decode(upload: Upload) -> synth.Audio:
    if _file_format(upload) != "wav":
        invalid("the emulator decodes only WAV files; the service also takes " + ", ".join(FILE_FORMATS), "file")
    try:
        return synth.decode_wav(upload.data)
    except ValueError:
        invalid("Audio file might be corrupted or unsupported", "file")


def _options(fields: Mapping[str, Any]) -> str:
    """Check the optional fields both endpoints take; returns the response format."""
    response_format = _text(fields, "response_format") or "json"
    if response_format not in RESPONSE_FORMATS:
        invalid(f"Invalid value: '{response_format}'. Supported values are: 'json', 'text', 'srt', "
                "'verbose_json', and 'vtt'.", "response_format")
    _text(fields, "prompt")  # checked only: a placeholder follows no prompt
    temperature = _text(fields, "temperature")
    if temperature is not None:
        try:
            ok = 0.0 <= float(temperature) <= 1.0
        except ValueError:
            ok = False
        if not ok:
            invalid(f"Invalid value: '{temperature}'. 'temperature' must be a number between 0 and 1.",
                    "temperature")
    return response_format


def _check(fields: Mapping[str, Any], task: str, language: str | None) -> Request:
    upload = _file(fields)
    response_format = _options(fields)
    # Decoded last, so that a bad parameter is refused without decoding megabytes of audio first.
    return Request(fields["model"], task, _decode(upload), language, response_format)


def check_translation(fields: Mapping[str, Any]) -> Request:
    """Validate a translation form (its ``model`` already routed here); raise ApiError on the first fault."""
    return _check(fields, "translate", "en")


def check_transcription(fields: Mapping[str, Any]) -> Request:
    """As ``check_translation``, plus ``language``: two ISO-639-1 letters."""
    language = _text(fields, "language")
    if language is not None:
        if not (len(language) == 2 and language.isascii() and language.isalpha()
                and langcodes.Language.get(language.lower()).is_valid()):
            invalid(f"Invalid language '{language}'. Language parameter must be specified in ISO-639-1 format.",
                    "language", "invalid_language_format")
        language = language.lower()
    return _check(fields, "transcribe", language)


def voiced_runs(samples: np.ndarray, rate: int) -> list[tuple[int, int, int]]:
    """(start_ms, end_ms, voiced_ms) of each stretch of speech, as Whisper would cut segments.

    >>> voiced_runs(np.zeros(16000, dtype=np.int16), 16000)
    []
    """
    voiced = synth.voiced_frames(samples, rate)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    runs: list[list[int]] = []
    for start, end in zip(edges[::2] * synth.FRAME_MS, edges[1::2] * synth.FRAME_MS):
        if runs and start - runs[-1][1] < SEGMENT_GAP_MS:
            runs[-1][1:] = [end, runs[-1][2] + end - start]
        else:
            runs.append([start, end, end - start])
    pieces = []
    for start, end, spoken in (r for r in runs if r[2] >= MIN_RUN_MS):
        count = math.ceil((end - start) / MAX_SEGMENT_MS)
        cuts = [start + (end - start) * i // count // synth.FRAME_MS * synth.FRAME_MS for i in range(count)] + [end]
        pieces += [(a, b, spoken * (b - a) // (end - start)) for a, b in zip(cuts, cuts[1:])]
    return [(int(a), int(b), int(v)) for a, b, v in pieces]


def segments(req: Request, language: str, answer_text: str | None = None) -> list[Segment]:
    """The timed placeholder text of ``req`` in ``language``; ``answer_text`` is one segment over all the
    speech (or all the audio when there is none)."""
    runs = voiced_runs(req.audio.samples, req.audio.rate)
    lead = "" if language in CJK else " "
    if answer_text is not None:
        start, end = (runs[0][0], runs[-1][1]) if runs else (0, req.audio.duration_ms)
        return [Segment(start, end, lead + answer_text.strip(), sum(r[2] for r in runs))]
    seed = synth.derive_seed(req.audio.pcm, language, req.task)
    return [Segment(a, b, lead + synth.placeholder_text(v, language, seed + i), v)
            for i, (a, b, v) in enumerate(runs)]


def _segment_json(index: int, seg: Segment) -> dict:
    """One segment as the service sends it (``seek``: the 30 s chunk it was decoded in, in 10 ms frames)."""
    raw = seg.text.encode()
    words = seg.text.split() if seg.text.strip() else []
    return {"id": index, "seek": seg.start_ms // 30_000 * 3000, "start": seg.start_ms / 1000,
            "end": seg.end_ms / 1000, "text": seg.text, "tokens": [zlib.crc32(w.encode()) % 50257 for w in words],
            "temperature": 0.0, "avg_logprob": -0.25,
            "compression_ratio": round(len(raw) / len(zlib.compress(raw)), 4) if raw else 0.0,
            "no_speech_prob": round(0.5 * (1 - seg.voiced_ms / max(1, seg.end_ms - seg.start_ms)), 4)}


def language_name(code: str) -> str:
    """The language as verbose_json names it: lower-case English ("english").

    >>> language_name("de")
    'german'
    """
    return langcodes.Language.get(code).display_name("en").lower()


def _stamp(ms: int, sep: str) -> str:
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def _cues(segs: list[Segment], sep: str) -> list[str]:
    return [f"{_stamp(s.start_ms, sep)} --> {_stamp(s.end_ms, sep)}\n{s.text.strip()}\n" for s in segs]


def _srt(segs: list[Segment]) -> str:
    return "\n".join(f"{i}\n{cue}" for i, cue in enumerate(_cues(segs, ","), 1)) + ("\n" if segs else "")


def _vtt(segs: list[Segment]) -> str:
    return "WEBVTT\n\n" + "\n".join(_cues(segs, "."))


_TEXT_FORMATS: dict[str, Callable[[list[Segment], str], str]] = {
    "text": lambda segs, text: text + "\n",
    "srt": lambda segs, text: _srt(segs),
    "vtt": lambda segs, text: _vtt(segs),
}


def answer(req: Request, ctx: Context) -> Reply:
    """The placeholder answer of ``req`` in the asked format; ``ctx.answer_text`` replaces its text."""
    language = req.language or ctx.detect_language
    segs = segments(req, language, ctx.answer_text)
    text = "".join(s.text for s in segs).strip()
    if req.response_format == "json":
        return json_reply({"text": text}, cut=ctx.broken)
    if req.response_format == "verbose_json":
        body = {"task": req.task, "language": language_name(language),
                "duration": round(req.audio.duration_ms / 1000, 3), "text": text,
                "segments": [_segment_json(i, s) for i, s in enumerate(segs)]}
        return json_reply(body, cut=ctx.broken)
    data = _TEXT_FORMATS[req.response_format](segs, text).encode()
    return byte_reply("text/plain; charset=utf-8", data, ctx.broken)


TRANSLATIONS = Service(name="whisper-translations", path=AUDIO_PREFIX + "/translations", models=MODELS,
                       dialect=OPENAI, read=read_upload, check=check_translation, answer=answer)
TRANSCRIPTIONS = Service(name="whisper-transcriptions", path=AUDIO_PREFIX + "/transcriptions", models=MODELS,
                         dialect=OPENAI, read=read_upload, check=check_transcription, answer=answer)
