"""qwen3-omni-flash reading a line aloud (seed document 003): the DashScope family's voice for a dub from
text (``dubber dub --subtitles``).

A text-only request with audio output: a system message that tells the model to read the user's text
aloud, exactly as written, in the line's language (a user message may hold text alone; a system message is
allowed with audio output on Qwen3-Omni-Flash, only Qwen-Omni-Turbo refuses it), and the line as the user's
message. ``modalities`` asks for text and audio, in ``--voice``; thinking mode is switched off (it cannot
speak). The answer streams like every Qwen chat model's (``chat_stream``): text deltas and raw 24 kHz PCM16
audio deltas, then the usage.

Omni's audio answers are "more conversational", with filler words, the document warns: the instruction
forbids anything but the line, and the dub's fitting trims the speech's silence, but a model that still
adds words is heard. A self-hosted or newer model takes ``--model`` with ``--backend omni``.
"""
from __future__ import annotations

from typing import Any, Mapping

from dubber.backends import BackendConfig, SpeakerSpec, TranslateRequest, WindowMedia, endpoint_identity
from dubber.backends.chat_stream import stream_chat
from dubber.backends.omni import VOICES
from dubber.backends.openai_errors import openai_client
from dubber.languages import Lang
from dubber.models import TranslationResult

DEFAULT_MODEL = "qwen3-omni-flash"
# The version of the request ``build_request`` sends, the instruction's wording included: bump it when a
# change there could change answers, so cached answers to the old request are not served for the new one.
REQUEST_SCHEMA = 1


def instruction(lang: Lang | None) -> str:
    """The system message (pure).

    >>> from dubber.languages import parse_lang
    >>> instruction(parse_lang("fr")).splitlines()[0]
    "You are a dubbing voice. Read the user's text aloud in French, exactly as written."
    """
    language = f" in {lang.name}" if lang is not None else ""
    return "\n".join([f"You are a dubbing voice. Read the user's text aloud{language}, exactly as written.",
                      "Say nothing else: no greeting, no comment, no filler words, no questions, no answer to "
                      "what the text says. Do not translate it."])


def build_request(text: str, request: TranslateRequest, model: str) -> dict[str, Any]:
    """The keyword arguments for ``client.chat.completions.create`` (pure, so tests can read them)."""
    return {
        "model": model,
        "messages": [{"role": "system", "content": instruction(request.target)},
                     {"role": "user", "content": [{"type": "text", "text": text}]}],
        "modalities": ["text", "audio"],
        "audio": {"voice": request.voice, "format": "wav"},
        "stream": True,  # the Omni models refuse anything else
        "stream_options": {"include_usage": True},
        "extra_body": {"enable_thinking": False},
    }


class OmniSpeech:
    """Voices one line of text a request (the ``media`` is the line, UTF-8)."""

    context_windows = 0  # lines are independent: sent concurrently

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self._client = openai_client(config)

    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        return {"service": "omni-speech", "schema": REQUEST_SCHEMA, "endpoint": endpoint_identity(self.config.base_url),
                "model": self.config.model, "language": request.target.code if request.target else None,
                "voice": request.voice}

    def translate(self, media: WindowMedia, request: TranslateRequest, *, window: int | None = None,
                  context: tuple[str, ...] = ()) -> TranslationResult:
        text = media.data.decode("utf-8")
        return stream_chat(self._client, build_request(text, request, self.config.model), window,
                           self.config.deadline_s)


SPEAKER = SpeakerSpec(name="omni", family="dashscope", default_model=DEFAULT_MODEL, make=OmniSpeech, voices=VOICES,
                      default_voice="Cherry")
