"""The emulated qwen3-asr-flash: the document's answer key for key, its checks as 400s naming the field,
the transcript in the source language (given, or as the emulator detects it), and the same transcript
streamed."""
from __future__ import annotations

import json

import numpy as np
import openai
import pytest

from dubber.emulator import Emulator
from dubber.emulator.asr import MAX_DATA_URL, check_request
from dubber.emulator.dialects import ApiError
from tests.emulator.helpers import SPEECH_3S, SILENCE, data_url, http_post, make_wav

MODEL = "qwen3-asr-flash"
ITEM = "messages[0].content[0].input_audio.data"


def body(audio: str = SPEECH_3S, **extra) -> dict:
    """A valid raw body, shaped as the document's example sends it."""
    return {"model": MODEL, "messages": [{"content": [{"type": "input_audio", "input_audio": {"data": audio}}],
                                          "role": "user"}],
            "stream": False, "asr_options": {"enable_itn": False}, **extra}


def post(emulator, payload: dict):
    status, _, raw = http_post(emulator, json.dumps(payload).encode())
    return status, json.loads(raw)


def test_plain_answer_is_the_documents_shape(emulator):
    status, answer = post(emulator, body())
    assert status == 200
    assert list(answer) == ["id", "choices", "created", "model", "object", "usage"]
    assert answer["id"].startswith("chatcmpl-") and answer["object"] == "chat.completion" and answer["model"] == MODEL
    (choice,) = answer["choices"]
    assert choice["finish_reason"] == "stop" and choice["index"] == 0
    message = choice["message"]
    assert list(message) == ["annotations", "content", "role"] and message["role"] == "assistant"
    assert message["annotations"] == [{"emotion": "neutral", "language": "en", "type": "audio_info"}]
    words = message["content"].split()
    assert abs(len(words) - 3.0 * 2.5) <= 1 and message["content"].isascii()  # 3 s of speech, in English
    usage = answer["usage"]
    assert usage["seconds"] == 4  # 0.5 s + 3 s + 0.5 s of audio, in started seconds
    assert usage["prompt_tokens"] == usage["prompt_tokens_details"]["audio_tokens"] == 100
    assert usage["prompt_tokens_details"]["text_tokens"] == 0
    assert usage["completion_tokens"] == usage["completion_tokens_details"]["text_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert post(emulator, body())[1]["choices"] == answer["choices"]  # deterministic


def test_the_language_asked_is_the_language_answered(emulator):
    _, answer = post(emulator, body(asr_options={"language": "ko", "enable_itn": True}))
    message = answer["choices"][0]["message"]
    assert message["annotations"][0]["language"] == "ko"
    assert all("\uac00" <= ch <= "\ud7a3" for ch in message["content"] if ch.isalpha())  # Hangul syllables


def test_the_emulator_detects_the_language_it_is_set_to():
    with Emulator(detect_language="zh") as emu:
        _, answer = post(emu, body(asr_options={}))
    message = answer["choices"][0]["message"]
    assert message["annotations"][0]["language"] == "zh" and message["content"].endswith("。")
    with pytest.raises(ValueError):
        Emulator(detect_language="xx")


def test_silence_gives_an_empty_transcript(emulator):
    _, answer = post(emulator, body(SILENCE))
    assert answer["choices"][0]["message"]["content"] == "" and answer["usage"]["completion_tokens"] == 0


def test_sdk_stream_gives_the_same_transcript_and_the_usage(emulator, client):
    plain = client.chat.completions.create(model=MODEL, messages=body()["messages"],
                                           extra_body={"asr_options": {"enable_itn": False}})
    stream = client.chat.completions.create(model=MODEL, messages=body()["messages"], stream=True,
                                            stream_options={"include_usage": True},
                                            extra_body={"asr_options": {"enable_itn": False}})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content and text
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert not chunks[-1].choices and chunks[-1].usage.total_tokens == plain.usage.total_tokens
    assert chunks[-1].usage.model_extra["seconds"] == 4


def _refused(payload: dict) -> ApiError:
    with pytest.raises(ApiError) as info:
        check_request(payload)
    assert info.value.status == 400
    return info.value


@pytest.mark.parametrize("change, param", [
    ({"stream_options": {"include_usage": True}}, "stream_options"),
    ({"asr_options": {"language": 7}}, "asr_options.language"),
    ({"asr_options": {"language": "klingon"}}, "asr_options.language"),
    ({"asr_options": {"enable_itn": "yes"}}, "asr_options.enable_itn"),
    ({"asr_options": "zh"}, "asr_options"),
    ({"stream": "true"}, "stream"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "system", "content": [{"type": "input_audio", "input_audio": {"data": SPEECH_3S}}]}]},
     "messages[0].role"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}, "messages[0].content[0].type"),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}, ITEM),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "aGk="}}]}]}, ITEM),
])
def test_checks_name_the_field(change, param):
    assert _refused({**body(), **change}).param == param


def test_stream_options_are_allowed_with_a_stream():
    accepted = check_request(body(stream=True, stream_options={"include_usage": True}))
    assert accepted.stream and accepted.include_usage and not accepted.itn and accepted.language is None


def test_a_data_url_over_10_mb_is_refused_over_http(emulator):
    big = "data:audio/wav;base64," + "A" * (MAX_DATA_URL - len("data:audio/wav;base64,") + 4)
    status, answer = post(emulator, body(big))
    assert status == 400 and answer["error"]["param"] == ITEM and "10 MB" in answer["error"]["message"]
    assert answer["error"]["code"] == "invalid_parameter_error" and answer["request_id"]


def test_audio_over_5_minutes_is_refused_and_5_minutes_is_not(emulator):
    too_long = data_url(make_wav(np.zeros(8000 * 301), rate=8000))
    assert len(too_long) < MAX_DATA_URL  # refused for its length, not its size
    status, answer = post(emulator, body(too_long))
    assert status == 400 and answer["error"]["param"] == ITEM and "5 minutes" in answer["error"]["message"]
    assert check_request(body(data_url(make_wav(np.zeros(8000 * 300), rate=8000)))).audio.duration_ms == 300_000


def test_the_sdk_sees_a_refusal_as_a_400_naming_the_field(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=MODEL, messages=body()["messages"],
                                       stream_options={"include_usage": True})
    assert info.value.status_code == 400 and info.value.param == "stream_options"
