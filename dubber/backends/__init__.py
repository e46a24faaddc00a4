"""Translation backends behind one small protocol, chosen by name from a registry.

A backend turns one window's audio (a WAV file's bytes) into a TranslationResult. Everything that
varies between services (request shape, streaming, how audio comes back) stays inside its module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from dubber.languages import Lang
from dubber.models import TranslationResult

DEFAULT_BASE_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"


@dataclass(frozen=True)
class BackendConfig:
    api_key: str
    base_url: str = DEFAULT_BASE_URL
    model: str = "qwen3-livetranslate-flash"
    timeout_s: float = 120.0
    max_retries: int = 0  # dubber retries whole windows itself (dubber.retry), streams included

    def __repr__(self) -> str:  # the key must never reach a log or a traceback
        return f"BackendConfig(base_url={self.base_url!r}, model={self.model!r})"


@dataclass(frozen=True)
class TranslateRequest:
    target: Lang
    source: Lang | None = None  # None: the service detects the language
    want_audio: bool = False
    voice: str = "Cherry"


class Backend(Protocol):
    def translate(self, wav: bytes, request: TranslateRequest, *, window: int | None = None) -> TranslationResult:
        ...


def _livetranslate(config: BackendConfig) -> Backend:
    from dubber.backends.livetranslate import LiveTranslate

    return LiveTranslate(config)


REGISTRY: dict[str, Callable[[BackendConfig], Backend]] = {"livetranslate": _livetranslate}


def make_backend(name: str, config: BackendConfig) -> Backend:
    return REGISTRY[name](config)
