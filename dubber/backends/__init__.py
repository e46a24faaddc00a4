"""Translation backends behind one small protocol, chosen by name from a registry.

A backend turns one window's audio (a WAV file's bytes) into a TranslationResult, and says what shapes
that answer (``cache_identity``), so the window cache can never serve one endpoint's answer to another.
Everything that varies between services (request shape, streaming, how audio comes back) stays inside
its module; adding a service is one module here and one entry in ``REGISTRY``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Protocol
from urllib.parse import urlsplit, urlunsplit

from dubber.languages import Lang
from dubber.models import TranslationResult

DEFAULT_BASE_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"


@dataclass(frozen=True)
class BackendConfig:
    api_key: str
    base_url: str = DEFAULT_BASE_URL
    model: str = "qwen3-livetranslate-flash"
    timeout_s: float = 120.0
    max_retries: int = 0  # dubber retries whole windows itself (dubber.translate.retry), streams included

    def __repr__(self) -> str:  # the key must never reach a log or a traceback
        return f"BackendConfig(base_url={self.base_url!r}, model={self.model!r})"


@dataclass(frozen=True)
class TranslateRequest:
    target: Lang
    source: Lang | None = None  # None: the service detects the language
    want_audio: bool = False
    voice: str = "Cherry"


class Backend(Protocol):
    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        """Everything besides the audio that shapes the answer to ``request``: the service's endpoint,
        the model, the version of the request this module sends, and the request's settings. Never the
        API key. JSON-serialisable."""
        ...

    def translate(self, wav: bytes, request: TranslateRequest, *, window: int | None = None) -> TranslationResult:
        ...


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


def _livetranslate(config: BackendConfig) -> Backend:
    from dubber.backends.livetranslate import LiveTranslate

    return LiveTranslate(config)


REGISTRY: dict[str, Callable[[BackendConfig], Backend]] = {"livetranslate": _livetranslate}


def make_backend(name: str, config: BackendConfig) -> Backend:
    return REGISTRY[name](config)
