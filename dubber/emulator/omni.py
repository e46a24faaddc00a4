"""qwen3-omni-flash (seed document 003): checks a request as the service does, answers in its dialect.

What ``check_request`` accepts, the document's rules first:

- ``stream`` must be true: the Omni models only stream (a 400 otherwise, however the rest looks).
- ``messages``: system and assistant messages hold text only; a user message holds text and at most
  one other modality, and at most one audio; the last message is the user's.
- ``enable_thinking`` (top level, where ``extra_body`` puts it): false by default; thinking mode gives
  text only, so ``modalities`` with audio, or an ``audio`` parameter, is refused in it. A thinking
  request is answered like any other (the emulator streams no ``reasoning_content``).
- ``modalities``: ``["text"]`` (the default) or ``["text", "audio"]``, the two documented values; with
  audio, ``audio.format`` must be ``wav`` and ``audio.voice`` one of *that model's* voices (the
  document's voice list: 49 for qwen3-omni-flash-2025-12-01, 17 for qwen3-omni-flash and -2025-09-15).
- the audio: at most 20 minutes and 100 MB.

The emulator's own limits: it answers text, and at most one ``input_audio`` in the messages, holding a
base64 WAV data URL (``data:audio/wav;base64,...`` or the document's ``data:;base64,...``); images and
video are refused.

With audio, the answer is placeholder text in the target language, which the emulator learns as a model
would, from the instruction: the text items of the user message that holds the audio, where the first
supported language's English name right after the word "into" wins ("... from English into French.");
with none, English. The speech follows the input's voiced audio.

Without audio, the model is taken to read the last user message aloud, as a dub from text asks it to:
the answer's text is that message's text (its white space tidied), and the speech lasts as long as
reading it takes (``synth.reading_ms``), seeded by the text, the voice and the model.

The stream interleaves text deltas and audio deltas of raw 24 kHz PCM16 (one without data after the
first, as the service sometimes sends), then the finish chunk and the usage chunk. Same request, same
bytes.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from dubber.emulator import chat, synth
from dubber.emulator.checks import check, field
from dubber.emulator.dialects import DASHSCOPE
from dubber.emulator.service import Context, Reply, Service
from dubber.languages import SUPPORTED

__all__ = ["MODELS", "SERVICE", "VOICES", "Request", "answer", "check_request", "target_language"]

_FLASH_VOICES = ("Cherry", "Ethan", "Nofish", "Jennifer", "Ryan", "Katerina", "Elias", "Jada", "Dylan",
                 "Sunny", "Li", "Marcus", "Roy", "Peter", "Rocky", "Kiki", "Eric")
_DEC_VOICES = ("Cherry", "Serena", "Ethan", "Chelsie", "Momo", "Vivian", "Moon", "Maia", "Kai", "Nofish",
               "Bella", "Jennifer", "Ryan", "Katerina", "Aiden", "Eldric Sage", "Mia", "Mochi", "Bellona",
               "Vincent", "Bunny", "Neil", "Elias", "Arthur", "Nini", "Ebona", "Seren", "Pip", "Stella",
               "Bodega", "Sonrisa", "Alek", "Dolce", "Sohee", "Ono Anna", "Lenn", "Emilien", "Andre",
               "Radio Gol", "Jada", "Dylan", "Li", "Marcus", "Roy", "Peter", "Sunny", "Eric", "Rocky", "Kiki")
# The voice parameter values each model takes (the document's "Voice list"; 0915 is 2025-09-15's alias).
VOICES: dict[str, tuple[str, ...]] = {
    "qwen3-omni-flash": _FLASH_VOICES,
    "qwen3-omni-flash-2025-09-15": _FLASH_VOICES,
    "qwen3-omni-flash-0915": _FLASH_VOICES,
    "qwen3-omni-flash-2025-12-01": _DEC_VOICES,
}
MODELS = frozenset(VOICES)
MAX_AUDIO_MS = 20 * 60 * 1000
MAX_AUDIO_BYTES = 100 * 1024 * 1024
_MEDIA_TYPES = {"input_audio": "audio", "image_url": "image", "video_url": "video", "video": "video"}
_BARE_DATA_URL = "data:;base64,"  # the document's form for local files: no MIME type
# Longest first, so that a name that begins another (none today) cannot shadow it.
_NAMES = sorted(((name.lower(), code) for code, name in SUPPORTED.items()), key=lambda p: -len(p[0]))
_INTO = re.compile(r"\binto\s+", re.IGNORECASE)
# The prompt's text tokens: the instruction's words with audio, as always; without, as ``chat.token_usage``
# counts text, each CJK character a token (a line to read may be all CJK).
_INSTRUCTION_TOKEN = re.compile(r"\w+|[^\w\s]")
_TEXT_TOKEN = re.compile(r"[\u3000-\u9fff]|\w+|[^\w\s]")


@dataclass(frozen=True)
class Request:
    """A validated request: only what the answer depends on."""

    model: str
    audio: synth.Audio | None  # None: text only, answered by reading the last user message aloud
    target_lang: str | None  # with audio: learned from the instruction; None: the line's own language
    instruction: str  # with audio: the text that came with it; without: the last user message's text
    voice: str | None  # None: text only
    include_usage: bool
    prompt_text_tokens: int
    stream: bool = True  # the only kind the Omni models answer


def target_language(instruction: str) -> str | None:
    """The code of the first supported language named right after "into", if any.

    >>> target_language("Translate the speech from English into French. Not into German.")
    'fr'
    >>> target_language("What is this audio about?") is None
    True
    """
    for match in _INTO.finditer(instruction):
        rest = instruction[match.end():].lower()
        for name, code in _NAMES:
            if rest.startswith(name) and not rest[len(name):len(name) + 1].isalpha():
                return code
    return None


def _items(message: dict, where: str) -> list[dict]:
    """A message's content as a list of items (a plain string is one text item)."""
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    check(isinstance(content, list) and content and all(isinstance(i, dict) for i in content),
          f"{where}.content must be a string or a non-empty list of objects", f"{where}.content")
    for n, item in enumerate(content):
        kind = item.get("type")
        check(kind == "text" or kind in _MEDIA_TYPES, f"unsupported content type {kind!r}", f"{where}.content[{n}].type")
        if kind == "text":
            check(isinstance(item.get("text"), str), f"{where}.content[{n}].text must be a string",
                  f"{where}.content[{n}].text")
    return content


def _check_message(message: Any, where: str) -> tuple[str, list[dict]]:
    """The message's role and items, checked against what that role may carry."""
    check(isinstance(message, dict), f"{where} must be an object", where)
    role = message.get("role")
    check(role in ("system", "user", "assistant"), f"{where}.role must be system, user or assistant", f"{where}.role")
    items = _items(message, where)
    kinds = {_MEDIA_TYPES[i["type"]] for i in items if i["type"] != "text"}
    check(role == "user" or not kinds, f"{role} messages hold text only", f"{where}.content")
    check(len(kinds) <= 1, "a user message can contain text and only one other modality", f"{where}.content")
    check(sum(i["type"] == "input_audio" for i in items) <= 1, "only one audio file can be input", f"{where}.content")
    check(not kinds - {"audio"}, "the emulator answers text and audio input only (no images or video)",
          f"{where}.content")
    return role, items


def _read_messages(messages: Any) -> tuple[tuple[dict, str, str] | None, list[str]]:
    """The input_audio object (if any), where it is and the text of the user message holding it; and
    the text of every message, in order (the last is the user's)."""
    check(isinstance(messages, list) and messages, "messages must be a non-empty list", "messages")
    found: list[tuple[dict, str, str]] = []
    texts: list[str] = []
    role = None
    for m, message in enumerate(messages):
        role, items = _check_message(message, f"messages[{m}]")
        texts.append("\n".join(i["text"] for i in items if i["type"] == "text"))
        found += [(i, f"messages[{m}].content[{n}].input_audio", texts[-1])
                  for n, i in enumerate(items) if i["type"] == "input_audio"]
    check(role == "user", "the last message must be the user's", f"messages[{len(messages) - 1}].role")
    check(len(found) <= 1, "the emulator answers at most one input_audio item", "messages")
    if not found:
        return None, texts
    item, where, text = found[0]
    return (field(item, "input_audio", dict, where, {}), where, text), texts


def _voice(body: Mapping[str, Any], model: str, thinking: bool) -> str | None:
    """The requested voice, or None when only text is asked for."""
    modalities = field(body, "modalities", list, "modalities", ["text"])
    check(modalities in (["text"], ["text", "audio"]), 'modalities must be ["text"] or ["text","audio"]',
          "modalities")
    if thinking:
        check("audio" not in modalities, "audio output is not supported in thinking mode", "modalities")
        check(body.get("audio") is None, "the audio parameter is not supported in thinking mode", "audio")
    if "audio" not in modalities:
        return None
    audio = field(body, "audio", dict, "audio")
    check(audio is not None, "audio is required when modalities includes audio", "audio")
    check(audio.get("format") == "wav", "audio.format can only be wav", "audio.format")
    voice = field(audio, "voice", str, "audio.voice")
    check(voice is not None, "audio.voice is required", "audio.voice")
    check(voice in VOICES[model], f"voice {voice!r} is not supported by {model}", "audio.voice")
    return voice


def _decode(item: dict, where: str) -> synth.Audio:
    data = item.get("data")
    if isinstance(data, str):
        check(len(data) * 3 // 4 <= MAX_AUDIO_BYTES, "the audio file cannot exceed 100 MB", f"{where}.data")
        if data.startswith(_BARE_DATA_URL):  # the WAV's type is in its header; chat's reader wants it named
            item = {**item, "data": "data:audio/wav;base64," + data[len(_BARE_DATA_URL):]}
    audio = chat.decode_audio(item, where)
    check(audio.duration_ms <= MAX_AUDIO_MS, "the audio cannot be longer than 20 minutes", f"{where}.data")
    return audio


def check_request(body: Mapping[str, Any]) -> Request:
    """Validate a chat-completions body (its ``model`` already routed here); raise ApiError on the first fault."""
    check(field(body, "stream", bool, "stream", False),
          "This model only supports stream mode: set the stream parameter to true", "stream")
    found, texts = _read_messages(body.get("messages"))
    thinking = field(body, "enable_thinking", bool, "enable_thinking", False)
    voice = _voice(body, body["model"], thinking)
    stream_options = field(body, "stream_options", dict, "stream_options", {})
    include_usage = field(stream_options, "include_usage", bool, "stream_options.include_usage", False)
    if found is None:
        return Request(model=body["model"], audio=None, target_lang=None, instruction=texts[-1], voice=voice,
                       include_usage=include_usage, prompt_text_tokens=len(_TEXT_TOKEN.findall("\n".join(texts))))
    item, where, instruction = found
    # Decoded last, so that a bad parameter is refused without decoding megabytes of audio first.
    audio = _decode(item, where)
    return Request(model=body["model"], audio=audio, target_lang=target_language(instruction) or "en",
                   instruction=instruction, voice=voice, include_usage=include_usage,
                   prompt_text_tokens=len(_INSTRUCTION_TOKEN.findall(instruction)))


@dataclass(frozen=True)
class Spoken:
    """The placeholder answer of one request, as ``chat.reply`` frames it."""

    request: Request
    text: str
    speech: chat.Speech

    def usage(self) -> dict:
        audio = self.request.audio
        usage = chat.token_usage(audio.duration_ms if audio else 0, self.text, len(self.speech.pcm))
        prompt_text = self.request.prompt_text_tokens
        usage["prompt_tokens"] += prompt_text
        usage["total_tokens"] += prompt_text
        usage["prompt_tokens_details"]["text_tokens"] = prompt_text
        if audio is None:
            usage["prompt_tokens_details"]["audio_tokens"] = None  # no audio in, none counted
        return usage

    def message(self) -> dict:  # ``chat.Content`` asks for it; never sent, as the Omni models only stream
        return chat.message(self.text, None)

    def deltas(self) -> Iterator[dict]:
        yield chat.delta("", "assistant")
        texts = (chat.delta(piece) for piece in synth.text_pieces(self.text, self.request.target_lang))
        # A speaking model says its text as it writes it: text and audio deltas come interleaved.
        audio = (chat.delta(audio=a) for a in self.speech.deltas())
        for pair in itertools.zip_longest(texts, audio):
            yield from (d for d in pair if d is not None)


def _read_line(req: Request, answer_text: str | None = None) -> tuple[str, bytes]:
    """A text-only request's answer: the line it asks to be read (or ``answer_text``), and when a voice is
    asked for, that text spoken, as long as reading it aloud takes."""
    text = " ".join(req.instruction.split()) if answer_text is None else answer_text
    if req.voice is None:
        return text, b""
    return text, synth.read_aloud(text, synth.derive_seed(text.encode(), req.model, req.voice))


def answer(req: Request, ctx: Context) -> Reply:
    """The placeholder answer of ``req``; ``ctx.answer_text`` replaces its text (even for silence). The
    speech follows the input audio, or without audio, the text said."""
    if req.audio is None:
        text, speech = _read_line(req, ctx.answer_text)
    else:
        text, speech = synth.placeholder_answer(req.audio, req.target_lang, req.voice, ctx.answer_text)
    spoken = Spoken(req, text, chat.Speech.of(speech, ctx))
    return chat.reply(chat.Envelope(ctx.answer_id, ctx.created, req.model), spoken,
                      stream=True, include_usage=req.include_usage, broken=ctx.broken,
                      error_event=ctx.error_event)


SERVICE = Service(name="omni", path=chat.CHAT_PATH, models=MODELS, dialect=DASHSCOPE,
                  read=chat.read_body, check=check_request, answer=answer)
