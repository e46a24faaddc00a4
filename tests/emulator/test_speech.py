"""OpenAI's text to speech as the emulator serves it (/v1/audio/speech): raw JSON over loopback HTTP for the
wire format, and the real openai SDK."""
from __future__ import annotations

import io
import json
import wave

import numpy as np
import openai
import pytest

from dubber.emulator import DEFAULT_KEY, OPENAI_PREFIX
from dubber.emulator.speech import VOICES
from tests.emulator.helpers import http_post

TTS1_VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")  # OpenAI's TTS guide
MINI_ONLY = ("ballad", "verse", "marin", "cedar")  # gpt-4o-mini-tts's other voices


def speak(emulator, **fields):
    """POST a speech body (fields set to None are left out); return (status, headers, body bytes)."""
    body = {"model": "tts-1", "input": "Hello there.", "voice": "alloy", "response_format": "pcm", **fields}
    raw = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
    return http_post(emulator, raw, path=OPENAI_PREFIX + "/audio/speech")


def seconds(pcm: bytes) -> float:
    return len(pcm) / 2 / 24000


def openai_error(raw: bytes) -> dict:
    body = json.loads(raw)
    assert list(body) == ["error"] and list(body["error"]) == ["message", "type", "param", "code"]
    return body["error"]


@pytest.fixture(scope="module")
def sdk(emulator):
    return openai.OpenAI(api_key=DEFAULT_KEY, base_url=emulator.openai_base_url, max_retries=0, timeout=20)


# --- how long it speaks ------------------------------------------------------------------------------

def test_speech_pcm_lasts_as_long_as_the_text_takes_to_say(emulator):
    short, long = speak(emulator, input="Hello there, how are you?"), speak(emulator, input="Hello there. " * 20)
    assert short[0] == long[0] == 200 and short[1]["Content-Type"] == "audio/pcm"
    for (_, _, pcm), chars in ((short, 25), (long, 259)):
        assert chars / 14 <= seconds(pcm) <= chars / 14 * 1.15 + 0.01
        assert np.abs(np.frombuffer(pcm, "<i2")).max() > 10000
    assert speak(emulator, input="Hello there, how are you?")[2] == short[2], "speech is deterministic"
    fast = speak(emulator, input="Hello there, how are you?", speed=2.0)[2]
    assert len(fast) < 0.6 * len(short[2])


@pytest.mark.parametrize("text, reading_s", [
    ("今天天气很好，我们去公园散步吧。", 16 / 4),  # Han: 4 characters a second, punctuation included
    ("今日はいい天気ですね、散歩に行きましょう。", 21 / 4),  # kana and kanji alike
    ("안녕하세요, 만나서 반갑습니다.", 13 / 6 + 4 / 14),  # 6 Hangul syllables a second; the rest at 14
    ("Il fait beau. 天气很好。", 14 / 14 + 5 / 4),  # each character at its own script's pace
])
def test_speech_follows_each_scripts_reading_pace(emulator, text, reading_s):
    status, _, pcm = speak(emulator, input=text)
    assert status == 200 and reading_s <= seconds(pcm) <= reading_s * 1.15 + 0.01


def test_speech_wav_is_the_same_pcm_in_a_header(emulator):
    status, headers, raw = speak(emulator, response_format="wav")
    with wave.open(io.BytesIO(raw)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        assert wav.readframes(wav.getnframes()) == speak(emulator)[2]
    assert headers["Content-Type"] == "audio/wav"


# --- voices --------------------------------------------------------------------------------------------

def test_the_voice_lists_are_openais():
    assert VOICES == {"tts-1": TTS1_VOICES, "tts-1-hd": TTS1_VOICES, "gpt-4o-mini-tts": TTS1_VOICES + MINI_ONLY}


@pytest.mark.parametrize("model, voice", [(m, v) for m, voices in VOICES.items() for v in voices])
def test_every_documented_voice_answers(emulator, model, voice):
    status, _, pcm = speak(emulator, model=model, voice=voice)
    assert status == 200 and pcm


def test_voices_give_different_speech(emulator):
    assert len({speak(emulator, voice=v)[2] for v in TTS1_VOICES}) == len(TTS1_VOICES)


@pytest.mark.parametrize("model, voice", [("tts-1", v) for v in MINI_ONLY] + [("tts-1-hd", "ballad"),
                                          ("gpt-4o-mini-tts", "nobody"), ("tts-1", "Alloy"), ("tts-1", "Cherry")])
def test_a_voice_the_model_lacks_is_refused(emulator, model, voice):
    status, _, raw = speak(emulator, model=model, voice=voice)
    error = openai_error(raw)
    assert (status, error["param"], error["code"]) == (400, "voice", "invalid_value")
    assert f"'{voice}'" in error["message"] and all(f"'{v}'" in error["message"] for v in VOICES[model])


# --- refusals ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, param, code", [
    (dict(input=None), "input", "missing_required_parameter"),
    (dict(voice=None), "voice", "missing_required_parameter"),
    (dict(model=None), "model", "missing_required_parameter"),
    (dict(voice={"id": "voice_1234"}), "voice", "invalid_type"),  # a custom voice: the emulator has none
    (dict(input="x" * 4097), "input", "string_above_max_length"),
    (dict(input=" "), "input", "invalid_value"),
    (dict(speed=5), "speed", "invalid_value"),
    (dict(response_format="mp3"), "response_format", "invalid_value"),  # the emulator encodes no mp3
    (dict(response_format="midi"), "response_format", "invalid_value"),
])
def test_speech_refusals_in_openai_shape(emulator, fields, param, code):
    status, _, raw = speak(emulator, **fields)
    error = openai_error(raw)
    assert (status, error["param"], error["code"]) == (400, param, code)


def test_speech_takes_exactly_4096_characters(emulator):
    assert speak(emulator, input="a" * 4096)[0] == 200


def test_the_sdk_voices_and_maps_a_bad_voice(sdk):
    answer = sdk.audio.speech.create(model="gpt-4o-mini-tts", voice="marin", input="Good morning.",
                                     response_format="pcm")
    assert len(answer.content) > 24000 * 2 * 0.8
    with pytest.raises(openai.BadRequestError) as info:
        sdk.audio.speech.create(model="tts-1", voice="cedar", input="Hi.", response_format="pcm")
    assert info.value.body["param"] == "voice"
