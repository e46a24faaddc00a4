"""qwen3-omni-flash as the emulator serves it: its checks (pure, and over HTTP in DashScope's dialect),
the target language learned from the instruction, and the stream read back through the real openai SDK."""
from __future__ import annotations

import base64
import json
import re

import openai
import pytest

from dubber.emulator.dialects import ApiError
from dubber.emulator.omni import MODELS, VOICES, check_request, target_language
from tests.emulator.helpers import SILENCE, SPEECH_1S5, SPEECH_3S, audio_field, http_post

MODEL = "qwen3-omni-flash"
INTO_FRENCH = "Translate the speech in this audio from English into French. Answer with the translation only."


def omni_request(speech: str = SPEECH_1S5, text: str = INTO_FRENCH, voice: str | None = "Cherry", **extra) -> dict:
    """A valid raw body shaped like the document's examples: the audio, then the text, one user message."""
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": speech, "format": "wav"}},
            {"type": "text", "text": text}]}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "modalities": ["text"],
        "enable_thinking": False,
    }
    if voice is not None:
        body.update(modalities=["text", "audio"], audio={"voice": voice, "format": "wav"})
    body.update(extra)
    return body


def _refusal(body: dict) -> ApiError:
    with pytest.raises(ApiError) as caught:
        check_request(body)
    assert caught.value.status == 400
    return caught.value


def stream(client: openai.OpenAI, body: dict) -> dict:
    """Stream ``body`` through the SDK; gather the text, the joined PCM, the order of delta kinds, the usage."""
    standard = {k: body[k] for k in ("model", "messages", "modalities", "audio", "stream", "stream_options")
                if k in body}
    extra = {k: v for k, v in body.items() if k not in standard}
    text, pcm, kinds, finish, last = "", b"", [], None, None
    for chunk in client.chat.completions.create(**standard, extra_body=extra):
        last = chunk
        for choice in chunk.choices:
            delta, finish = choice.delta, choice.finish_reason or finish
            if delta.content:
                text += delta.content
                kinds.append("text")
            if delta.audio is not None:
                data = audio_field(delta.audio, "data")
                pcm += base64.b64decode(data) if data else b""
                kinds.append("audio" if data else "empty")
    return {"text": text, "pcm": pcm, "kinds": kinds, "finish": finish, "usage": last.usage}


# --- the target language -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, code", [
    ("Translate the speech in this audio from English into French.", "fr"),
    ("translate INTO japanese, then stop", "ja"),
    ("Translate into Cantonese.\nAlways translate 'X' into German as 'Y'.", "yue"),
    ("Put it into words, then into Korean.", "ko"),  # "into words" names no language: the next one counts
    ("Turn this into Englishness.", None),  # a language's name must end where the word does
    ("What is this audio about?", None),
])
def test_target_language_is_the_first_language_named_after_into(text, code):
    assert target_language(text) == code


def test_the_target_comes_from_the_user_message_holding_the_audio():
    assert check_request(omni_request()).target_lang == "fr"
    assert check_request(omni_request(text="What is this audio about?")).target_lang == "en"  # none named
    body = omni_request(text="Summarise it.")
    body["messages"].insert(0, {"role": "system", "content": "Always answer into German."})
    assert check_request(body).target_lang == "en"  # a system message's text is not the instruction


# --- what is accepted -------------------------------------------------------------------------------

def test_documented_shapes_are_accepted():
    plain = check_request(omni_request())
    assert (plain.model, plain.voice, plain.include_usage, plain.stream) == (MODEL, "Cherry", True, True)
    bare_mime = omni_request(speech=SPEECH_1S5.replace("data:audio/wav;base64,", "data:;base64,"))
    assert check_request(bare_mime).audio.pcm == plain.audio.pcm  # the document's local-file form
    conversation = omni_request(voice=None)
    conversation["messages"][:0] = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                                    {"role": "user", "content": "Hello"},
                                    {"role": "assistant", "content": [{"type": "text", "text": "Hi."}]}]
    assert check_request(conversation).voice is None
    thinking = omni_request(voice=None, enable_thinking=True)
    assert check_request(thinking).voice is None  # thinking mode answers text


def test_voices_follow_each_models_list():
    assert len(VOICES["qwen3-omni-flash-2025-12-01"]) == 49 and len(set(VOICES["qwen3-omni-flash-2025-12-01"])) == 49
    assert len(VOICES[MODEL]) == 17 and VOICES["qwen3-omni-flash-2025-09-15"] == VOICES[MODEL]
    assert MODELS == {"qwen3-omni-flash", "qwen3-omni-flash-2025-12-01", "qwen3-omni-flash-2025-09-15",
                      "qwen3-omni-flash-0915"}
    for voice in ("Serena", "Eldric Sage", "Ono Anna"):  # 2025-12-01 only
        assert check_request(omni_request(voice=voice, model="qwen3-omni-flash-2025-12-01")).voice == voice
        assert _refusal(omni_request(voice=voice)).param == "audio.voice"
    assert check_request(omni_request(voice="Jada")).voice == "Jada"  # the parameter, not "Shanghai - Jada"


# --- what is refused --------------------------------------------------------------------------------

def _with_content(*items: dict) -> dict:
    body = omni_request()
    body["messages"][0]["content"] = list(items)
    return body


_AUDIO_ITEM = {"type": "input_audio", "input_audio": {"data": SPEECH_1S5, "format": "wav"}}
_IMAGE_ITEM = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
_TEXT_ITEM = {"type": "text", "text": INTO_FRENCH}

REFUSED = [  # (body, param, words)
    (omni_request(stream=False), "stream", "stream"),
    ({k: v for k, v in omni_request().items() if k != "stream"}, "stream", "stream"),
    (omni_request(enable_thinking=True), "modalities", "thinking mode"),
    (omni_request(voice=None, enable_thinking=True, audio={"voice": "Cherry", "format": "wav"}), "audio",
     "thinking mode"),
    (omni_request(enable_thinking="yes"), "enable_thinking", "type bool"),
    (omni_request(voice="NotAVoice"), "audio.voice", "not supported by qwen3-omni-flash"),
    (omni_request(audio={"voice": "Cherry", "format": "mp3"}), "audio.format", "wav"),
    (omni_request(modalities=["audio"]), "modalities", "modalities"),
    (omni_request(modalities=["text", "audio"], audio=None), "audio", "required"),
    (_with_content(_AUDIO_ITEM, _IMAGE_ITEM, _TEXT_ITEM), "messages[0].content", "only one other modality"),
    (_with_content(_AUDIO_ITEM, _AUDIO_ITEM), "messages[0].content", "only one audio"),
    (_with_content(_IMAGE_ITEM, _TEXT_ITEM), "messages[0].content", "audio input only"),
    (_with_content(_TEXT_ITEM), "messages", "exactly one input_audio"),
    (_with_content({"type": "audio", "audio": "x"}), "messages[0].content[0].type", "unsupported content type"),
    (omni_request(messages=[]), "messages", "non-empty"),
    (omni_request(messages=[{"role": "assistant", "content": [_AUDIO_ITEM]}]), "messages[0].content", "text only"),
    (omni_request(messages=[{"role": "user", "content": [_AUDIO_ITEM, _TEXT_ITEM]},
                            {"role": "assistant", "content": "Bonjour."}]), "messages[1].role", "user's"),
    (omni_request(speech=SILENCE.replace("data:audio/wav", "data:audio/mp3")[:40] + "@@"),
     "messages[0].content[0].input_audio.data", "base64"),
]


@pytest.mark.parametrize("body, param, words", REFUSED)
def test_invalid_requests_are_refused_like_the_service(body, param, words):
    err = _refusal(body)
    assert err.param == param and words in err.message and err.code == "invalid_parameter_error"


def test_refusals_arrive_in_dashscopes_dialect_and_as_sdk_errors(client, emulator):
    status, _, raw = http_post(emulator, json.dumps(omni_request(stream=False)).encode())
    error = json.loads(raw)
    assert status == 400 and set(error) == {"error", "request_id"}
    assert error["error"]["param"] == "stream" and error["error"]["code"] == "invalid_parameter_error"
    with pytest.raises(openai.BadRequestError, match="stream mode"):
        client.chat.completions.create(model=MODEL, messages=omni_request()["messages"], stream=False)
    with pytest.raises(openai.BadRequestError, match="not supported by qwen3-omni-flash"):
        stream(client, omni_request(voice="Serena"))
    with pytest.raises(openai.BadRequestError, match="thinking mode"):
        stream(client, omni_request(enable_thinking=True))


# --- the answer ---------------------------------------------------------------------------------------

def test_stream_interleaves_text_and_audio_sized_like_the_voice(client):
    short, long = stream(client, omni_request(SPEECH_1S5)), stream(client, omni_request(SPEECH_3S))
    for result, voiced_s in ((short, 1.5), (long, 3.0)):
        assert result["text"] and result["finish"] == "stop"
        assert 1.0 * voiced_s <= len(result["pcm"]) / 2 / 24000 <= 1.15 * voiced_s + 0.001
        kinds = result["kinds"]
        assert kinds[0] == "text" and kinds[1] == "audio" and kinds.count("empty") == 1
    assert len(long["text"]) > len(short["text"])


def test_text_follows_the_target_named_in_the_instruction(client):
    french = stream(client, omni_request(voice=None))
    japanese = stream(client, omni_request(voice=None, text="Translate the speech into Japanese."))
    assert re.fullmatch(r"[A-Za-z .]+", french["text"]) and french["pcm"] == b""
    assert not re.search(r"[A-Za-z]", japanese["text"])


def test_identical_requests_give_identical_answers(client):
    first = stream(client, omni_request(SPEECH_3S))
    assert stream(client, omni_request(SPEECH_3S)) == first
    assert stream(client, omni_request(SPEECH_3S, voice="Ethan"))["pcm"] != first["pcm"]


def test_usage_counts_the_audio_and_the_instruction(client):
    usage = stream(client, omni_request(SPEECH_1S5))["usage"]
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    details = usage.prompt_tokens_details
    assert details.audio_tokens == 63 and details.text_tokens > 10  # 2.5 s × 25, and the instruction's words
    assert usage.prompt_tokens == details.audio_tokens + details.text_tokens
    assert usage.completion_tokens_details.audio_tokens > 0
    no_usage = omni_request(SPEECH_1S5, stream_options={"include_usage": False})
    assert stream(client, no_usage)["usage"] is None


def test_silence_gives_an_empty_answer(client):
    result = stream(client, omni_request(SILENCE))
    assert result["text"] == "" and result["pcm"] == b"" and result["finish"] == "stop"
