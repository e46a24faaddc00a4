"""qwen3-asr-flash over the OpenAI-compatible chat completions API (seed document 001): the words as
spoken, in the source language, for ``dubber transcribe`` and the source lines of ``--bilingual``.

One request per window: one user message holding one ``input_audio`` whose ``data`` is a base64 data
URL of the window's WAV (the document sends no ``format``), and ``asr_options`` in ``extra_body``:
``language`` when the source is known (else the service detects it), ``enable_itn``. The answer is
asked for whole (``stream: false``): the document shows the ``audio_info`` annotation, which carries
the detected language, only on a plain answer's message, and a window's transcript is short, so a
stream would gain nothing and might lose the language.

Limits: a data URL of at most 10 MB (read as 10,000,000 bytes, the strict reading) and at most 5 minutes
of audio. The windows dubber sends are 16 kHz mono WAV, which reaches 10 MB as a data URL after about
3.9 minutes, so that is the longest window ``SPEC.max_window_ms`` allows (``--max-window`` past it is a
usage error before anything is sent); the size is still checked before each request, naming the window.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping


from dubber.backends import BackendConfig, BackendSpec, TranslateRequest, WindowMedia, data_url, endpoint_identity
from dubber.backends.openai_errors import mapped_errors, openai_client
from dubber.errors import RequestError, TransientError
from dubber.models import TranslationResult, Usage

log = logging.getLogger(__name__)

MAX_DATA_URL = 10_000_000  # "Keep the encoded audio within the 10 MB limit"
# The version of the request ``build_request`` sends: bump it when a change there could change answers.
REQUEST_SCHEMA = 1


def build_request(media: WindowMedia, request: TranslateRequest, model: str) -> dict[str, Any]:
    """The keyword arguments for ``client.chat.completions.create`` (pure, so tests can read them)."""
    options: dict[str, Any] = {}
    if request.source is not None:
        options["language"] = request.source.code
    options["enable_itn"] = request.itn
    return {
        "model": model,
        "messages": [{"content": [{"type": "input_audio", "input_audio": {"data": data_url(media)}}],
                      "role": "user"}],
        "stream": False,
        "extra_body": {"asr_options": options},
    }


def check_size(kwargs: Mapping[str, Any], window: int | None) -> None:
    """Refuse, before paying for it, a request whose data URL the service would refuse (over 10 MB)."""
    size = len(kwargs["messages"][0]["content"][0]["input_audio"]["data"])
    if size > MAX_DATA_URL:
        raise RequestError(f"the audio is {size / 1e6:.1f} MB as a data URL; qwen3-asr-flash takes at most 10 MB "
                           "a request (a shorter --max-window makes smaller windows)", window=window)


def _get(obj: Any, name: str) -> Any:
    """A field of an SDK object or a dict; extra fields of SDK objects (``language``) included."""
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None:
        value = (getattr(obj, "model_extra", None) or {}).get(name)
    return value


def detected_language(message: Any) -> str | None:
    """The language of the message's ``audio_info`` annotation, if it has one."""
    for annotation in _get(message, "annotations") or ():
        if _get(annotation, "type") == "audio_info" and _get(annotation, "language"):
            return str(_get(annotation, "language"))
    return None


def read_completion(completion: Any) -> TranslationResult:
    """The transcript, its detected language and the usage of a plain ``chat.completion``."""
    if not completion.choices:
        raise TransientError("the answer held no transcript")
    message = completion.choices[0].message
    usage = completion.usage
    return TranslationResult(
        text=(message.content or "").strip(), language=detected_language(message),
        usage=Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0, usage.total_tokens or 0) if usage else None,
    )


class Asr:
    """The asr backend: one plain chat completion per window, the words as spoken."""

    context_windows = 0  # it takes no instructions, so no context: windows go concurrently

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self._client = openai_client(config)

    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        return {"service": "asr", "schema": REQUEST_SCHEMA, "endpoint": endpoint_identity(self.config.base_url),
                "model": self.config.model, "language": request.source.code if request.source else None,
                "itn": request.itn}

    def translate(self, media: WindowMedia, request: TranslateRequest, *, window: int | None = None,
                  context: tuple[str, ...] = ()) -> TranslationResult:
        kwargs = build_request(media, request, self.config.model)
        check_size(kwargs, window)
        with mapped_errors(window):
            return read_completion(self._client.chat.completions.create(**kwargs))


SPEC = BackendSpec(
    name="asr", family="dashscope", default_model="qwen3-asr-flash", make=Asr, tasks=frozenset({"transcribe"}),
    # "up to 5 minutes", but the 10 MB data URL is reached first: 16 kHz mono PCM16 is 32,000 bytes a second,
    # 4/3 of that as base64, plus the header: 230 s leaves a little room.
    max_window_ms=230 * 1000,
    speaker="omni_speech",
)
