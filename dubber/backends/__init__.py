"""Services behind one small protocol, each described by a ``BackendSpec`` and chosen by name.

A backend turns one window's media (``WindowMedia``: WAV audio, or a short video clip) into a
``TranslationResult``: a translation, or for the ``transcribe`` task the words as spoken; with speech
when asked and the service can speak. It also says what shapes that answer (``cache_identity``), so the
window cache can never serve one endpoint's answer to another.

Everything that varies between services (request shape, streaming, multipart, how audio comes back)
stays inside its module. Adding a service is one module here defining ``SPEC``, and its name in ``NAMES``.
"""
from __future__ import annotations

import base64
import importlib
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol
from urllib.parse import urlsplit, urlunsplit

from dubber.errors import OptionError
from dubber.languages import Lang
from dubber.models import TranslationResult

NAMES = ("livetranslate", "omni", "asr", "whisper")
TASKS = ("translate", "transcribe")
INPUT_MODES = ("audio", "video")
DEFAULT_BASE_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"


@dataclass(frozen=True)
class Family:
    """Who runs a service: where its key and endpoint come from when no option names them."""

    name: str
    key_env: str
    url_env: str
    default_url: str


FAMILIES = {
    "dashscope": Family("dashscope", "DASHSCOPE_API_KEY", "DUBBER_BASE_URL", DEFAULT_BASE_URL),
    "openai": Family("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
}


@dataclass(frozen=True)
class BackendConfig:
    api_key: str
    base_url: str = DEFAULT_BASE_URL
    model: str = "qwen3-livetranslate-flash"
    timeout_s: float = 60.0  # the longest wait for any one read (or for a whole answer that is not streamed)
    deadline_s: float = 300.0  # the longest a streamed answer may take in all: a window is answered in seconds
    max_retries: int = 0  # dubber retries whole windows itself (dubber.translate.retry), streams included
    input_mode: str = "audio"  # what each window sends: "audio" (WAV) or "video" (a short clip)
    speech_model: str | None = None  # for services that voice text with a second model (Whisper's TTS)

    def __repr__(self) -> str:  # the key must never reach a log or a traceback
        return f"BackendConfig(base_url={self.base_url!r}, model={self.model!r})"


@dataclass(frozen=True)
class TranslateRequest:
    """What every window of a run asks. ``target`` is None for the transcribe task."""

    target: Lang | None
    source: Lang | None = None  # None: the service detects the language
    want_audio: bool = False
    voice: str = "Cherry"
    task: str = "translate"  # or "transcribe": the words as spoken, in the source language
    glossary: tuple[tuple[str, str], ...] = ()  # (term, fixed translation), for services that take instructions
    itn: bool = True  # transcripts: numbers, dates and the like written as a reader expects ("25", not "twenty-five")


@dataclass(frozen=True)
class WindowMedia:
    """One window's input as sent: the bytes of a file and their MIME type."""

    data: bytes
    mime: str  # "audio/wav" or "video/mp4"


class Backend(Protocol):
    # How many previous windows' answers each request carries as context (0: windows are independent and
    # are sent concurrently; more: they are sent in order, each with the texts of the ones before).
    context_windows: int

    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        """Everything besides the media (and the context) that shapes the answer to ``request``: the
        service's endpoint, the model, the version of the request this module sends, and the request's
        settings. Never the API key. JSON-serialisable."""
        ...

    def translate(self, media: WindowMedia, request: TranslateRequest, *, window: int | None = None,
                  context: tuple[str, ...] = ()) -> TranslationResult:
        ...


@dataclass(frozen=True)
class BackendSpec:
    """What a service can do, and its defaults: the CLI reads it to check options before paying."""

    name: str
    family: str  # a key of FAMILIES
    default_model: str
    make: Callable[[BackendConfig], Backend]
    tasks: frozenset[str] = frozenset({"translate"})
    speaks: bool = False  # can voice a translation (``dub``)
    voices: tuple[str, ...] | None = None  # the voices it accepts; None: it documents no list
    default_voice: str = "Cherry"
    targets: frozenset[str] | None = None  # language codes it translates into; None: all it supports
    input_modes: frozenset[str] = frozenset({"audio"})
    instructions: bool = False  # takes a text instruction (so a glossary can be honoured)
    max_window_ms: int = 20 * 60 * 1000  # the longest window one request may carry (documented limits)
    transcriber: str | None = None  # the backend that gives this family's source transcripts (--bilingual)
    speaker: str | None = None  # the module that voices text in this family (``dubber dub --subtitles``)

    def check(self, *, task: str = "translate", target: Lang | None = None, voice: str | None = None,
              input_mode: str = "audio", glossary: bool = False, max_window_ms: int = 0) -> None:
        """Refuse, as one line, what this service cannot do."""
        if task not in self.tasks:
            raise OptionError(f"the {self.name} backend cannot {task}")
        if target is not None and self.targets is not None and target.code not in self.targets:
            raise OptionError(f"the {self.name} backend only translates into {', '.join(sorted(self.targets))}, "
                              f"not {target.name}")
        if voice is not None and self.voices is not None and voice not in self.voices:
            raise OptionError(f"unknown voice {voice!r} for {self.name} (voices: {', '.join(self.voices)})")
        if input_mode not in self.input_modes:
            raise OptionError(f"the {self.name} backend takes no {input_mode} input "
                              f"(it takes: {', '.join(sorted(self.input_modes))})")
        if glossary and not self.instructions:
            raise OptionError(f"the {self.name} backend takes no instructions, so it cannot honour --glossary")
        if max_window_ms > self.max_window_ms:
            raise OptionError(f"--max-window {max_window_ms / 1000:g} s is longer than one {self.name} request may "
                              f"carry ({self.max_window_ms / 1000:g} s)")


def backend_spec(name: str) -> BackendSpec:
    """The spec of backend ``name`` (its module is imported only when asked for)."""
    if name not in NAMES:
        raise OptionError(f"unknown backend {name!r} (known: {', '.join(NAMES)})")
    return importlib.import_module(f"dubber.backends.{name}").SPEC


@dataclass(frozen=True)
class SpeakerSpec:
    """A text-to-speech service: it voices one line of text a request (the ``WindowMedia`` holds the line as
    UTF-8 ``text/plain``) and answers a ``TranslationResult`` with the line and its speech."""

    name: str
    family: str  # a key of FAMILIES: it runs on that family's key and endpoint
    default_model: str
    make: Callable[[BackendConfig], Backend]
    voices: tuple[str, ...]
    default_voice: str

    def check_voice(self, voice: str) -> None:
        if voice not in self.voices:
            raise OptionError(f"unknown voice {voice!r} for {self.name} (voices: {', '.join(self.voices)})")


def speaker_spec(backend: str) -> SpeakerSpec:
    """The text-to-speech service of ``backend``'s family (``--backend livetranslate --subtitles`` voices with
    omni: the same key and endpoint)."""
    spec = backend_spec(backend)
    if spec.speaker is None:
        raise OptionError(f"the {spec.name} backend's family has no text-to-speech service")
    return importlib.import_module(f"dubber.backends.{spec.speaker}").SPEAKER


def text_media(text: str) -> WindowMedia:
    """One line to voice, as a speaker's request carries it."""
    return WindowMedia(text.encode("utf-8"), "text/plain")


def make_backend(name: str, config: BackendConfig) -> Backend:
    return backend_spec(name).make(config)


def endpoint_identity(base_url: str) -> str:
    """The base URL as one service instance: scheme and host lower-cased, the scheme's default port and a
    trailing slash dropped, so spellings of the same endpoint share a cache and different ones never do.

    >>> endpoint_identity("HTTPS://DashScope-Intl.aliyuncs.com:443/compatible-mode/v1/")
    'https://dashscope-intl.aliyuncs.com/compatible-mode/v1'
    """
    parts = urlsplit(base_url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if parts.port in (None, default) else f"{host}:{parts.port}"
    if ":" in host:  # an IPv6 literal keeps its brackets
        netloc = f"[{host}]" if parts.port in (None, default) else f"[{host}]:{parts.port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def data_url(media: WindowMedia) -> str:
    """``media`` as a base64 data URL, the form the chat services take local files in."""
    return f"data:{media.mime};base64,{base64.b64encode(media.data).decode('ascii')}"
