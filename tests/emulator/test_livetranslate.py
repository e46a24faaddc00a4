"""qwen3-livetranslate-flash as the emulator serves it: over real loopback HTTP, through the real openai SDK
(and urllib for the raw wire)."""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import openai
import pytest

from dubber.languages import CJK
from tests.emulator.helpers import (MODEL, SILENCE, SPEECH_1S5, SPEECH_3S, audio_field, collect_stream, data_url, http_post,
                                    make_wav, request, sdk_create, speech_signal)


# --- streaming -------------------------------------------------------------------------------------

def test_stream_text_and_audio_track_voiced_length(client):
    short = collect_stream(client, request(SPEECH_1S5))
    long = collect_stream(client, request(SPEECH_3S))
    for result, voiced_s in ((short, 1.5), (long, 3.0)):
        assert abs(len(result["text"].split()) - 2.5 * voiced_s) <= 1
        assert result["text"][0].isupper() and result["text"].endswith(".")
        audio_s = len(result["pcm"]) / 2 / 24000
        assert 1.0 * voiced_s <= audio_s <= 1.15 * voiced_s + 0.001
        assert result["finish"][-1] == "stop"
    assert len(long["text"]) > len(short["text"]) and len(long["pcm"]) > len(short["pcm"])


def test_stream_audio_deltas_are_odd_sized_with_one_dataless(client):
    result = collect_stream(client, request(SPEECH_1S5))
    deltas = result["deltas"]
    assert deltas.count(None) == 1
    assert deltas.index(None) == 1 and deltas[0] and deltas[-1]  # after the first, before the last
    sizes = [len(base64.b64decode(d)) for d in deltas if d is not None]
    assert all(size == 4801 for size in sizes[:-1]) and 0 < sizes[-1] <= 4801


def test_stream_ends_with_usage_chunk(client):
    last = collect_stream(client, request(SPEECH_1S5))["last"]
    assert last.choices == [] and last.usage is not None
    usage = last.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    details = usage.completion_tokens_details
    assert usage.completion_tokens == details.audio_tokens + details.text_tokens
    assert details.audio_tokens > 0 and details.text_tokens > 0
    assert usage.prompt_tokens_details.audio_tokens == usage.prompt_tokens == 63  # 2.5 s × 25
    assert usage.prompt_tokens_details.text_tokens == 0


def test_raw_stream_matches_the_documented_wire_format(emulator):
    body = request(SPEECH_1S5, stream=True, stream_options={"include_usage": True})
    status, headers, raw = http_post(emulator, json.dumps(body).encode())
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = raw.decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert len({(c["id"], c["created"], c["model"], c["object"]) for c in chunks}) == 1
    assert chunks[0]["object"] == "chat.completion.chunk" and chunks[0]["id"].startswith("chatcmpl-")
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "audio": None}
    audio = [c["choices"][0]["delta"] for c in chunks if c["choices"] and c["choices"][0]["delta"].get("audio")]
    assert all(d["content"] is None and d["role"] is None for d in audio)
    assert [sorted(d["audio"]) for d in audio[:2]] == [["data", "expires_at", "id"], ["expires_at", "id"]]
    assert chunks[-1]["choices"] == [] and set(chunks[-1]["usage"]) == {
        "completion_tokens", "prompt_tokens", "total_tokens", "completion_tokens_details",
        "prompt_tokens_details"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_stream_without_include_usage_has_no_usage_chunk(client):
    chunks = list(sdk_create(client, request(SPEECH_1S5, stream=True)))
    assert all(chunk.choices for chunk in chunks)


# --- non-streaming, determinism, content -------------------------------------------------------------

def test_non_streaming_answer_matches_the_stream(client):
    answer = sdk_create(client, request(SPEECH_1S5))
    streamed = collect_stream(client, request(SPEECH_1S5))
    assert answer.object == "chat.completion" and answer.id.startswith("chatcmpl-")
    choice = answer.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert choice.message.content == streamed["text"]
    assert audio_field(choice.message.audio, "transcript") == streamed["text"]
    assert base64.b64decode(audio_field(choice.message.audio, "data")) == streamed["pcm"]
    assert answer.usage.completion_tokens_details.audio_tokens > 0


def test_text_only_answer_has_no_audio(client):
    answer = sdk_create(client, request(SPEECH_1S5, with_audio=False))
    assert answer.choices[0].message.content and answer.choices[0].message.audio is None
    assert collect_stream(client, request(SPEECH_1S5, with_audio=False))["deltas"] == []


def test_identical_requests_give_identical_answers(client):
    first, second = (collect_stream(client, request(SPEECH_3S)) for _ in range(2))
    assert (first["text"], first["pcm"]) == (second["text"], second["pcm"])
    other = collect_stream(client, request(SPEECH_3S, target="fr"))
    assert other["text"] != first["text"]


def test_silence_gives_empty_text_and_no_audio(client):
    result = collect_stream(client, request(SILENCE))
    assert result["text"] == "" and result["pcm"] == b"" and result["deltas"] == []
    answer = sdk_create(client, request(SILENCE))
    assert answer.choices[0].message.content == "" and answer.choices[0].message.audio is None


@pytest.mark.parametrize("target", sorted(CJK))
def test_cjk_target_gives_cjk_text(client, target):
    text = sdk_create(client, request(SPEECH_1S5, target=target)).choices[0].message.content
    assert re.fullmatch(r"[\u3040-\u30ff\u4e00-\u9fff。]+", text) and text.endswith("。")  # ja: kana and kanji
    assert len(text.replace("。", "")) == 6  # 1.5 s × 4 characters a second


def test_full_language_names_and_stereo_44k_are_accepted(client):
    stereo = np.repeat(speech_signal(1.5, 44100)[:, None], 2, axis=1)
    body = request(data_url(make_wav(stereo, 44100, channels=2)), target="English")
    body["translation_options"]["source_lang"] = "Chinese"
    result = collect_stream(client, body)
    assert abs(len(result["text"].split()) - 4) <= 1 and result["pcm"]


# --- errors ----------------------------------------------------------------------------------------

def _mutate(path: str, value):
    """A change to the valid body: set ``path`` (dots, list indices as digits); _DEL deletes."""
    def apply(body: dict) -> dict:
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DEL:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value
        return body
    return apply


_DEL = object()
_AUDIO = "messages.0.content.0.input_audio"
_PCM8 = data_url(make_wav(speech_signal(0.2), width=1))
_HZ96K = data_url(make_wav(speech_signal(0.2), rate=96000))

ERRORS = [  # (mutation, status, SDK exception, param, words in the message)
    (_mutate("model", "qwen-max"), 404, openai.NotFoundError, "model", "`qwen-max` does not exist"),
    (_mutate("messages", []), 400, openai.BadRequestError, "messages", "exactly one user message"),
    (_mutate("messages.0.role", "system"), 400, openai.BadRequestError, "messages[0].role", "user"),
    (_mutate("messages.0.content", []), 400, openai.BadRequestError, "messages[0].content", "one item"),
    (_mutate("messages.0.content.0", {"type": "image_url", "image_url": {"url": "https://x/1.png"}}),
     400, openai.BadRequestError, "messages[0].content[0].type", "must be input_audio or video_url"),
    (_mutate(f"{_AUDIO}.data", 123), 400, openai.BadRequestError, "input_audio.data", "type str"),
    (_mutate(f"{_AUDIO}.format", _DEL), 400, openai.BadRequestError, "input_audio.format", "required"),
    (_mutate(f"{_AUDIO}.data", "https://example.com/a.wav"), 400, openai.BadRequestError,
     "input_audio.data", "cannot fetch URLs"),
    (_mutate(f"{_AUDIO}.data", "UklGRiQAAABXQVZF"), 400, openai.BadRequestError, "input_audio.data",
     "data URL"),
    (_mutate(f"{_AUDIO}.data", "data:audio/wav;base64,@@not base64@@"), 400, openai.BadRequestError,
     "input_audio.data", "base64"),
    (_mutate(f"{_AUDIO}.data", "data:audio/wav;base64," + base64.b64encode(b"hello").decode()), 400,
     openai.BadRequestError, "input_audio.data", "unsupported audio"),
    (_mutate(f"{_AUDIO}.data", _PCM8), 400, openai.BadRequestError, "input_audio.data", "unsupported audio"),
    (_mutate(f"{_AUDIO}.data", _HZ96K), 400, openai.BadRequestError, "input_audio.data", "unsupported audio"),
    (_mutate("translation_options", _DEL), 400, openai.BadRequestError, "translation_options.target_lang",
     "required"),
    (_mutate("translation_options.target_lang", _DEL), 400, openai.BadRequestError,
     "translation_options.target_lang", "required"),
    (_mutate("translation_options.target_lang", "klingon"), 400, openai.BadRequestError,
     "translation_options.target_lang", "unsupported language"),
    (_mutate("translation_options.source_lang", "xx"), 400, openai.BadRequestError,
     "translation_options.source_lang", "unsupported language"),
    (_mutate("modalities", ["audio"]), 400, openai.BadRequestError, "modalities", "modalities"),
    (_mutate("audio", _DEL), 400, openai.BadRequestError, "audio", "required"),
    (_mutate("audio.voice", _DEL), 400, openai.BadRequestError, "audio.voice", "required"),
    (_mutate("audio.format", "mp3"), 400, openai.BadRequestError, "audio.format", "only wav is supported"),
    (_mutate("stream", "yes"), 400, openai.BadRequestError, "stream", "type bool"),
]


@pytest.mark.parametrize("mutate, status, exc_type, param, words", ERRORS)
def test_invalid_requests_are_refused_like_the_service(client, emulator, mutate, status, exc_type, param, words):
    body = mutate(request())
    with pytest.raises(exc_type) as caught:
        client.post("/chat/completions", cast_to=object, body=body)
    assert caught.value.status_code == status and words in caught.value.message
    assert caught.value.param.endswith(param)
    got_status, _, raw = http_post(emulator, json.dumps(body).encode())
    error = json.loads(raw)
    assert got_status == status and set(error) == {"error", "request_id"}
    assert set(error["error"]) == {"code", "message", "type", "param"}
    assert error["error"]["type"] == "invalid_request_error"
    expected_code = "model_not_found" if status == 404 else "invalid_parameter_error"
    assert error["error"]["code"] == expected_code and error["error"]["param"].endswith(param)


def test_invalid_requests_through_create_raise_readable_sdk_errors(client):
    with pytest.raises(openai.BadRequestError, match="only wav is supported"):
        sdk_create(client, {**request(), "audio": {"voice": "Cherry", "format": "mp3"}})
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        sdk_create(client, {**request(), "model": "qwen-max"})


# --- voices ----------------------------------------------------------------------------------------

def test_each_request_voice_is_checked_and_recorded(client, emulator):
    before = len(emulator.voices)
    def voiced(voice: str) -> dict:
        body = request(SPEECH_1S5)
        body["audio"] = {"voice": voice, "format": "wav"}
        return body

    for voice in ("Ethan", "Kiki"):
        sdk_create(client, voiced(voice))
    sdk_create(client, request(SPEECH_1S5, with_audio=False))
    assert emulator.voices[before:] == [(MODEL, "Ethan"), (MODEL, "Kiki"), (MODEL, None)]
    with pytest.raises(openai.BadRequestError, match="voice 'Nobody' is not supported"):
        sdk_create(client, voiced("Nobody"))
    assert len(emulator.voices) == before + 3  # a refused request is not recorded
