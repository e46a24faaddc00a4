"""Whisper over OpenAI's audio endpoints (seed documents 002 and 004), with OpenAI's text to speech for dubs.

One request per window: the window's WAV as the multipart ``file`` of ``/audio/translations`` (English
out) or ``/audio/transcriptions`` (the words as spoken; ``language`` when the source is known), always
with ``response_format=verbose_json`` because only that form carries the segments: their times (seconds
from the window's start) become window-local ``Segment``s that time the cues. Whisper has no speech
output, so a dub voices the English text with ``/audio/speech`` (``dubber.backends.openai_speech``): one
speech request per window, or per piece of the text when it is over the 4096 characters one may carry.

The document limits a file to 25 MB: a window over it is refused before anything is sent (the spec's
``max_window_ms`` keeps default windows far below it).
"""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

import langcodes

from dubber.backends import BackendConfig, BackendSpec, TranslateRequest, WindowMedia, endpoint_identity
from dubber.backends.openai_errors import mapped_errors, openai_client
from dubber.backends.openai_speech import DEFAULT_SPEECH_MODEL, OUTPUT_RATE, VOICES, speak
from dubber.errors import OptionError, RequestError
from dubber.languages import parse_lang
from dubber.models import Segment, TranslationResult

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 25 * 1024 * 1024  # "Maximum file size: 25 MB", as OpenAI counts it
# The version of the requests this module sends: bump it when a change could change answers, so cached
# answers to the old requests are not served for the new ones.
REQUEST_SCHEMA = 1


def upload_name(media: WindowMedia, window: int | None) -> str:
    """The file name the upload carries: the service tells formats by extension."""
    return f"window-{window if window is not None else 0:05d}.{media.mime.split('/')[-1]}"


def source_language(request: TranslateRequest) -> str | None:
    """The ``language`` a transcription sends: the source's ISO-639-1 code, when it has one (Cantonese,
    ``yue``, has none, and is left to detection)."""
    if request.task != "transcribe" or request.source is None or len(request.source.code) != 2:
        return None
    return request.source.code


def build_request(media: WindowMedia, request: TranslateRequest, model: str,
                  window: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``client.audio.translations.create`` or ``.transcriptions.create`` (pure)."""
    kwargs: dict[str, Any] = {"file": (upload_name(media, window), media.data, media.mime), "model": model,
                              "response_format": "verbose_json"}
    language = source_language(request)
    if language is not None:
        kwargs["language"] = language
    return kwargs


def clean_segments(raw: Iterable[Any], duration_ms: int | None = None) -> tuple[Segment, ...]:
    """The answer's segments as window-local ms: text with its spacing tidied, empty ones dropped, in order,
    inside the window, never overlapping; a segment left with no time joins its text to a neighbour."""
    out: list[Segment] = []
    carry = ""
    for seg in sorted(raw, key=lambda s: s.start):
        text = " ".join(f"{carry} {seg.text or ''}".split())
        if not text:
            continue
        start = max(0, round(seg.start * 1000), out[-1].end_ms if out else 0)
        end = round(seg.end * 1000) if duration_ms is None else min(round(seg.end * 1000), duration_ms)
        carry = ""
        if end > start:
            out.append(Segment(start, end, text))
        elif out:
            out[-1] = Segment(out[-1].start_ms, out[-1].end_ms, f"{out[-1].text} {text}")
        else:
            carry = text
    return tuple(out)


def language_code(name: str | None) -> str | None:
    """The code of a language verbose_json names ("english" -> "en"); None when it cannot be told."""
    if not name:
        return None
    try:
        return parse_lang(name).code
    except OptionError:
        pass
    try:  # a language dubber does not translate may still name subtitle files
        return langcodes.find(name).language
    except LookupError:
        log.debug("the service named an unknown language: %r", name)
        return None


def parse_answer(answer: Any, task: str) -> TranslationResult:
    """A verbose_json answer as a result. A translation's ``language`` names the output's (always
    English), not the input's, so only a transcription's is kept."""
    duration = getattr(answer, "duration", None)
    segments = clean_segments(answer.segments or (), round(duration * 1000) if duration else None)
    language = language_code(getattr(answer, "language", None)) if task == "transcribe" else None
    return TranslationResult(text=" ".join((answer.text or "").split()), segments=segments, language=language)


class Whisper:
    """The whisper backend: a translation or transcription per window, then its speech when asked."""

    context_windows = 0  # windows are independent: sent concurrently

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.speech_model = config.speech_model or DEFAULT_SPEECH_MODEL
        self._client = openai_client(config)

    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        return {"service": "whisper", "schema": REQUEST_SCHEMA, "endpoint": endpoint_identity(self.config.base_url),
                "model": self.config.model, "task": request.task, "language": source_language(request),
                "audio": request.want_audio, "speech_model": self.speech_model if request.want_audio else None,
                "voice": request.voice if request.want_audio else None}

    def translate(self, media: WindowMedia, request: TranslateRequest, *, window: int | None = None,
                  context: tuple[str, ...] = ()) -> TranslationResult:
        if len(media.data) > MAX_FILE_BYTES:
            raise RequestError(f"the audio is {len(media.data) / 1e6:.1f} MB, over the 25 MB one upload may carry "
                               "(use a shorter --max-window)", window=window)
        kwargs = build_request(media, request, self.config.model, window)
        audio = self._client.audio
        endpoint = audio.transcriptions if request.task == "transcribe" else audio.translations
        with mapped_errors(window):
            result = parse_answer(endpoint.create(**kwargs), request.task)
            if request.want_audio and result.text:
                pcm = speak(self._client, result.text, request.voice, self.speech_model)
                return TranslationResult(result.text, pcm, OUTPUT_RATE, segments=result.segments)
            return result


SPEC = BackendSpec(
    name="whisper", family="openai", default_model="whisper-1", make=Whisper,
    tasks=frozenset({"translate", "transcribe"}), speaks=True, voices=VOICES, default_voice="alloy",
    targets=frozenset({"en"}),  # /audio/translations answers in English only
    input_modes=frozenset({"audio"}), instructions=False,
    # 16 kHz mono PCM16 is 32,000 bytes a second: 13 minutes are 24.96 MB, under the 25 MB upload limit
    max_window_ms=13 * 60 * 1000, transcriber="whisper",
    speaker="openai_speech",
)
