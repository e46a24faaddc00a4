"""OpenAI's text to speech, ``POST /audio/speech`` (seed document 004, "Create a voice"): a whisper dub's
voice, and the OpenAI family's voice for a dub from text (``dubber dub --subtitles``), on OpenAI or any
compatible self-hosted endpoint.

One request per piece of at most 4096 characters (the most ``input`` may carry), cut at sentence ends;
the audio is asked as ``pcm`` (raw 24 kHz PCM16 mono, no header) and the pieces joined in order.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Mapping

import openai

from dubber.backends import BackendConfig, SpeakerSpec, TranslateRequest, WindowMedia, endpoint_identity
from dubber.backends.openai_errors import mapped_errors, openai_client
from dubber.models import TranslationResult

log = logging.getLogger(__name__)

MAX_SPEECH_CHARS = 4096  # the most ``input`` one speech request may carry
OUTPUT_RATE = 24000  # ``pcm`` speech
DEFAULT_SPEECH_MODEL = "tts-1"
# The voices of tts-1 (and tts-1-hd), the model dubber asks for; gpt-4o-mini-tts adds ballad, verse, marin
# and cedar, which tts-1 refuses.
VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")
# The version of the requests this module sends: bump it when a change could change answers, so cached
# answers to the old requests are not served for the new ones.
REQUEST_SCHEMA = 1
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？])")


def build_speech_request(text: str, voice: str, model: str) -> dict[str, Any]:
    """Keyword arguments for ``client.audio.speech.create`` (pure)."""
    return {"model": model, "voice": voice, "input": text, "response_format": "pcm"}


def speech_pieces(text: str, limit: int = MAX_SPEECH_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters: whole sentences where they fit, a sentence longer
    than ``limit`` cut at its last space that fits (or, with none, at ``limit``).

    >>> speech_pieces("One two. Three four. Five.", limit=12)
    ['One two.', 'Three four.', 'Five.']
    """
    pieces: list[str] = []
    current = ""
    for sentence in (part.strip() for part in _SENTENCE_END.split(text.strip())):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces += [p for p in (current, sentence[:cut].strip()) if p]
            current, sentence = "", sentence[cut:].strip()
        if not sentence:
            continue
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    return pieces + ([current] if current else [])


def speak(client: openai.OpenAI, text: str, voice: str, model: str) -> bytes:
    """The speech of ``text`` as 24 kHz PCM16: one request per piece of at most 4096 characters, joined in
    order (the caller maps errors)."""
    pieces = speech_pieces(text)
    if len(pieces) > 1:
        log.info("the text is over %d characters: voicing it in %d requests", MAX_SPEECH_CHARS, len(pieces))
    pcm = bytearray()
    for piece in pieces:
        pcm += client.audio.speech.create(**build_speech_request(piece, voice, model)).content
        if len(pcm) % 2:
            log.warning("speech ended on half a sample; dropping the last byte")
            del pcm[-1]
    return bytes(pcm)


class OpenAISpeech:
    """Voices one line of text a request (the ``media`` is the line, UTF-8)."""

    context_windows = 0  # lines are independent: sent concurrently

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.model = config.speech_model or DEFAULT_SPEECH_MODEL
        self._client = openai_client(config)

    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        return {"service": "openai-speech", "schema": REQUEST_SCHEMA, "endpoint": endpoint_identity(self.config.base_url),
                "model": self.model, "voice": request.voice}

    def translate(self, media: WindowMedia, request: TranslateRequest, *, window: int | None = None,
                  context: tuple[str, ...] = ()) -> TranslationResult:
        text = media.data.decode("utf-8")
        with mapped_errors(window):
            return TranslationResult(text, speak(self._client, text, request.voice, self.model), OUTPUT_RATE)


SPEAKER = SpeakerSpec(name="openai-speech", family="openai", default_model=DEFAULT_SPEECH_MODEL, make=OpenAISpeech,
                      voices=VOICES, default_voice="alloy")
