"""qwen3-omni-flash over the OpenAI-compatible chat completions API (seed document 003).

Omni is a general multimodal chat model, not a translator: it is *told* what to do, which is what makes
it the backend for glossaries and running context. One streamed request per window (the Omni models
answer only streams), holding one user message whose content is the window's audio (an ``input_audio``
whose ``data`` is a base64 WAV data URL) and the instruction text; a user message may carry text and
one other modality, so this is the most it can carry. The instruction names the target language (and
the source, when given), asks for the translation only, lists the glossary's fixed translations, and
quotes the previous windows' translations as context not to be repeated.

Thinking mode is switched off explicitly (``enable_thinking: false`` in ``extra_body``): it cannot
speak, and for a translation its reasoning would only add tokens and latency. The answer streams like
livetranslate's (``chat_stream``): text deltas and 24 kHz PCM16 audio deltas, then the usage.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping


from dubber.backends import BackendConfig, BackendSpec, TranslateRequest, WindowMedia, data_url, endpoint_identity
from dubber.backends.chat_stream import stream_chat
from dubber.backends.openai_errors import openai_client
from dubber.models import TranslationResult

log = logging.getLogger(__name__)

# The version of the request ``build_request`` sends, the instruction's wording included: bump it when a
# change there could change answers, so cached answers to the old request are not served for the new one.
REQUEST_SCHEMA = 1
# Two windows are a sentence or two on either side of a pause: enough to keep a name, a term or a sentence
# cut by the window planner consistent, while each request's extra text (paid on every window) stays small
# and the model is less tempted to carry on translating the earlier text instead of this window's.
CONTEXT_WINDOWS = 2
MAX_CONTEXT_CHARS = 1000  # of each earlier translation, its end kept: a runaway answer cannot crowd the prompt

# The voices of qwen3-omni-flash, in the document's voice list. qwen3-omni-flash-2025-12-01 takes 32
# more, but a spec holds one list and these 17 are the ones every qwen3-omni-flash model accepts.
VOICES = ("Cherry", "Ethan", "Nofish", "Jennifer", "Ryan", "Katerina", "Elias", "Jada", "Dylan", "Sunny", "Li",
          "Marcus", "Roy", "Peter", "Rocky", "Kiki", "Eric")
# The languages it speaks ("Chinese (Mandarin and some dialects), English, French, German, Russian, Italian,
# Spanish, Portuguese, Japanese, and Korean"); it writes more.
SPEECH_LANGS = frozenset({"zh", "yue", "en", "fr", "de", "ru", "it", "es", "pt", "ja", "ko"})


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_CONTEXT_CHARS:
        text = "…" + text[-MAX_CONTEXT_CHARS:]
    return f'"{text}"'


def instruction(request: TranslateRequest, context: tuple[str, ...] = ()) -> str:
    """The instruction that travels with a window's audio (pure). Its first line names the target
    language: the rest (glossary, context) can never be taken for the task itself.

    >>> from dubber.languages import parse_lang
    >>> instruction(TranslateRequest(target=parse_lang("fr"), source=parse_lang("en"))).splitlines()[0]
    'Translate the speech in this audio from English into French.'
    """
    target = request.target.name
    source = f" from {request.source.name}" if request.source is not None else ""
    lines = [f"Translate the speech in this audio{source} into {target}.",
             f"Answer with the {target} translation only: no commentary, no notes, no explanations, no quotation "
             "marks around it, nothing about the audio itself. If nothing is said, answer with nothing."]
    if request.want_audio:
        lines.append("Speak the translation as a dubbing voice would: no greeting, no filler words, no questions.")
    if request.glossary:
        lines.append(f"Always translate these terms exactly as given (term → {target}):")
        lines += [f'- "{term}" → "{translation}"' for term, translation in request.glossary]
    if context:
        lines.append("For context only (already translated, do not repeat or translate it again), "
                     "the translation of the speech just before this audio:")
        lines += [_quoted(text) for text in context]
    return "\n".join(lines)


def build_request(media: WindowMedia, request: TranslateRequest, model: str,
                  context: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keyword arguments for ``client.chat.completions.create`` (pure, so tests can read them).

    The audio comes before the instruction, as in every one of the document's examples.
    """
    audio = {"type": "input_audio",
             "input_audio": {"data": data_url(media), "format": media.mime.split("/")[-1]}}
    text = {"type": "text", "text": instruction(request, context)}
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": [audio, text]}],
        "modalities": ["text", "audio"] if request.want_audio else ["text"],
        "stream": True,  # the Omni models refuse anything else
        "stream_options": {"include_usage": True},
        "extra_body": {"enable_thinking": False},
    }
    if request.want_audio:
        kwargs["audio"] = {"voice": request.voice, "format": "wav"}
    return kwargs


class Omni:
    """The omni backend: one streamed chat completion per window, in order, with the ones before as context."""

    context_windows = CONTEXT_WINDOWS

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self._client = openai_client(config)
        self._warned = False

    def cache_identity(self, request: TranslateRequest) -> Mapping[str, object]:
        return {"service": "omni", "schema": REQUEST_SCHEMA, "endpoint": endpoint_identity(self.config.base_url),
                "model": self.config.model, "target": request.target.code,
                "source": request.source.code if request.source else None,
                "audio": request.want_audio, "voice": request.voice if request.want_audio else None,
                "glossary": [list(pair) for pair in request.glossary]}

    def translate(self, media: WindowMedia, request: TranslateRequest, *, window: int | None = None,
                  context: tuple[str, ...] = ()) -> TranslationResult:
        if request.want_audio and request.target.code not in SPEECH_LANGS and not self._warned:
            # A warning, not a refusal: the spec has one list of targets, and the subtitles are still right.
            log.warning("omni does not document speech in %s: the dub may be spoken in another language",
                        request.target.name)
            self._warned = True
        log.debug("window %s: %d earlier translations as context", window, len(context))
        return stream_chat(self._client, build_request(media, request, self.config.model, context), window,
                           self.config.deadline_s)


SPEC = BackendSpec(
    name="omni", family="dashscope", default_model="qwen3-omni-flash", make=Omni, speaks=True,
    voices=VOICES, default_voice="Cherry", instructions=True,
    max_window_ms=20 * 60 * 1000,  # "Qwen3-Omni-Flash: cannot exceed 100 MB, with a maximum duration of 20 minutes"
    transcriber="asr",
    speaker="omni_speech",
)
