"""qwen3-omni-flash as the emulator serves it: its checks (pure, and over HTTP in DashScope's dialect),
the target language learned from the instruction, the stream read back through the real openai SDK, and a
text-only request answered by reading its line aloud."""
from __future__ import annotations

import base64
import hashlib
import json
import math
import re

import openai
import pytest

from dubber.emulator import DEFAULT_KEY, Emulator
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


READ_ALOUD = "You are a dubbing voice. Read the user's text aloud in French, exactly as written. Say nothing else."


def line_request(line: str = "Bonjour à tous.", voice: str | None = "Cherry", plain: bool = False, **extra) -> dict:
    """A valid text-only body, as a dub from text sends it: the instruction, then the line to read."""
    body = {
        "model": MODEL,
        "messages": [{"role": "system", "content": READ_ALOUD},
                     {"role": "user", "content": line if plain else [{"type": "text", "text": line}]}],
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


def test_text_only_shapes_are_accepted():
    listed, plain = check_request(line_request()), check_request(line_request(plain=True))
    assert listed == plain  # a string is one text item
    assert (listed.audio, listed.target_lang, listed.instruction, listed.voice) == (None, None, "Bonjour à tous.",
                                                                                  "Cherry")
    assert check_request(line_request(voice=None, enable_thinking=True)).voice is None
    two_items = line_request()
    two_items["messages"][1]["content"] = [{"type": "text", "text": "Bonjour"}, {"type": "text", "text": "à tous."}]
    assert check_request(two_items).instruction == "Bonjour\nà tous."
    earlier_audio = line_request()  # a conversation with one audio, now asked in text: answered from the audio
    earlier_audio["messages"][1:1] = [omni_request()["messages"][0], {"role": "assistant", "content": "Bonjour."}]
    assert check_request(earlier_audio).audio is not None


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
    (omni_request(messages=omni_request()["messages"] * 2), "messages", "at most one input_audio"),
    (_with_content({"type": "audio", "audio": "x"}), "messages[0].content[0].type", "unsupported content type"),
    (omni_request(messages=[]), "messages", "non-empty"),
    (omni_request(messages=[{"role": "assistant", "content": [_AUDIO_ITEM]}]), "messages[0].content", "text only"),
    (omni_request(messages=[{"role": "user", "content": [_AUDIO_ITEM, _TEXT_ITEM]},
                            {"role": "assistant", "content": "Bonjour."}]), "messages[1].role", "user's"),
    (omni_request(speech=SILENCE.replace("data:audio/wav", "data:audio/mp3")[:40] + "@@"),
     "messages[0].content[0].input_audio.data", "base64"),
    # A text-only request is held to the same rules.
    (line_request(stream=False), "stream", "stream"),
    (line_request(enable_thinking=True), "modalities", "thinking mode"),
    (line_request(voice="Serena"), "audio.voice", "not supported by qwen3-omni-flash"),
    (line_request(voice="Cherry", audio={"voice": "Cherry", "format": "pcm"}), "audio.format", "wav"),
    (line_request(messages=line_request()["messages"][:1]), "messages[0].role", "user's"),
    (line_request(messages=[*line_request()["messages"], {"role": "assistant", "content": "Bonjour à tous."}]),
     "messages[2].role", "user's"),
    (line_request(messages=[{"role": "system", "content": [_AUDIO_ITEM]}, {"role": "user", "content": "Hi."}]),
     "messages[0].content", "text only"),
    (line_request(messages=[{"role": "user", "content": []}]), "messages[0].content", "non-empty list"),
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


def _scrubbed_events(raw: bytes) -> list:
    """A stream's events without what changes between answers (ids, timestamps)."""
    def scrub(value):
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items() if k not in ("id", "created", "expires_at")}
        return [scrub(v) for v in value] if isinstance(value, list) else value
    return [scrub(json.loads(e[6:])) for e in raw.decode().split("\n\n") if e.startswith("data: {")]


def test_answers_to_audio_are_byte_for_byte_unchanged(emulator):
    """Text-only requests came later: what the emulator says to audio must not move (cached runs compare it)."""
    bodies = [omni_request(SPEECH_1S5), omni_request(SPEECH_3S, voice="Ethan"),
              omni_request(voice=None, text="Translate the speech into Japanese."), omni_request(SILENCE)]
    digest = hashlib.sha256()
    for body in bodies:
        status, _, raw = http_post(emulator, json.dumps(body).encode())
        assert status == 200
        digest.update(json.dumps(_scrubbed_events(raw)).encode())
    assert digest.hexdigest() == "b73652889dfe2232299599e2a1f74c262139f1eaf16387bb7a39c9c539fe8baf"


# --- a line read aloud (text only) -----------------------------------------------------------------------

LINES = [  # (line, seconds it takes to read: 14 characters a second, 4 Han or kana, 6 Hangul syllables)
    ("Hello there, how are you doing today? I hope the weather holds.", 63 / 14),
    ("今天天气很好，我们去公园散步吧。", 16 / 4),
    ("今日はいい天気ですね、散歩に行きましょう。", 21 / 4),
    ("안녕하세요, 만나서 반갑습니다.", 13 / 6 + 4 / 14),  # 13 syllable blocks; a comma, a full stop, two spaces
]


@pytest.mark.parametrize("line, seconds", LINES)
def test_a_line_is_read_back_at_its_reading_pace(client, line, seconds):
    result = stream(client, line_request(line))
    assert result["text"] == line and result["finish"] == "stop"
    assert abs(len(result["pcm"]) / 2 / 24000 / seconds - 1) <= 0.15
    kinds = result["kinds"]
    assert kinds[:2] == ["text", "audio"] and kinds.count("empty") == 1  # interleaved; one delta without data


def test_a_line_is_read_as_written_whatever_its_white_space(client):
    tidy = stream(client, line_request("Hello there, friend."))
    assert stream(client, line_request("  Hello there,\n\tfriend.  ")) == tidy
    assert stream(client, line_request("Hello there, friend.", plain=True)) == tidy  # content as a plain string


def test_a_reading_is_the_same_for_the_same_request_and_differs_by_voice_and_model(client):
    line = "The same words, read twice."
    first = stream(client, line_request(line))
    assert stream(client, line_request(line)) == first
    assert stream(client, line_request(line, voice="Ethan"))["pcm"] != first["pcm"]
    assert stream(client, line_request(line, model="qwen3-omni-flash-2025-12-01"))["pcm"] != first["pcm"]
    assert stream(client, line_request(line + " Again."))["pcm"] != first["pcm"]


def test_a_line_without_a_voice_is_answered_in_text_only(client):
    result = stream(client, line_request("Just the text.", voice=None))
    assert result["text"] == "Just the text." and result["pcm"] == b"" and "audio" not in result["kinds"]


def test_usage_of_a_reading_counts_the_prompts_text_and_the_speech(client):
    result = stream(client, line_request("你好，世界。"))
    usage = result["usage"]
    words = len(re.findall(r"\w+|[^\w\s]", READ_ALOUD))
    assert usage.prompt_tokens_details.audio_tokens is None  # no audio in
    assert usage.prompt_tokens == usage.prompt_tokens_details.text_tokens == words + 6  # each CJK character a token
    assert usage.completion_tokens_details.audio_tokens == math.ceil(len(result["pcm"]) / 2 / 24000 * 12.5)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_a_fixed_answer_text_is_said_instead_of_the_line():
    said = "Sure! Here is your line: Bonjour à tous."  # a model that adds words
    with Emulator(port=0, answer_text=said) as emu:
        sdk = openai.OpenAI(api_key=DEFAULT_KEY, base_url=emu.base_url, max_retries=0, timeout=10)
        result = stream(sdk, line_request("Bonjour à tous."))
    assert result["text"] == said
    assert abs(len(result["pcm"]) / 2 / 24000 / (len(said) / 14) - 1) <= 0.15  # the speech says the fixed text


def test_a_reading_is_refused_like_any_request(client, emulator):
    status, _, raw = http_post(emulator, json.dumps(line_request(voice="Serena")).encode())
    error = json.loads(raw)
    assert status == 400 and set(error) == {"error", "request_id"}
    assert (error["error"]["param"], error["error"]["code"]) == ("audio.voice", "invalid_parameter_error")
    with pytest.raises(openai.BadRequestError, match="not supported by qwen3-omni-flash"):
        stream(client, line_request(voice="Serena"))
    with pytest.raises(openai.BadRequestError, match="thinking mode"):
        stream(client, line_request(enable_thinking=True))
    with pytest.raises(openai.BadRequestError, match="stream mode"):
        client.chat.completions.create(model=MODEL, messages=line_request()["messages"], stream=False)
