"""The asr client: the request it builds (pure), the request as it reaches the emulator (the document's
shape), the transcript and detected language it reads back, its size limit, and its cache identity."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from dubber.backends import BackendConfig, TranslateRequest, WindowMedia, backend_spec, data_url
from dubber.backends.asr import MAX_DATA_URL, SPEC, Asr, build_request, detected_language
from dubber.emulator import DEFAULT_KEY, Emulator
from dubber.errors import AuthError, OptionError, RequestError
from dubber.languages import parse_lang
from dubber.media.audio import wav_bytes
from tests.support.mediagen import utterance

TRANSCRIBE = TranslateRequest(target=None, task="transcribe")


@pytest.fixture(scope="module")
def voice_wav() -> WindowMedia:
    pcm = np.concatenate([np.zeros(4000, np.int16), utterance("en02"), np.zeros(4000, np.int16)])
    return WindowMedia(wav_bytes(pcm, 16000), "audio/wav")


def _backend(base_url: str, key: str = DEFAULT_KEY) -> Asr:
    return Asr(BackendConfig(api_key=key, base_url=base_url, model=SPEC.default_model))


def test_request_matches_the_documented_shape(voice_wav):
    request = TranslateRequest(target=None, source=parse_lang("zh-CN"), task="transcribe", itn=False)
    kwargs = build_request(voice_wav, request, "qwen3-asr-flash")
    url = "data:audio/wav;base64," + base64.b64encode(voice_wav.data).decode()
    assert kwargs == {
        "model": "qwen3-asr-flash",
        "messages": [{"content": [{"type": "input_audio", "input_audio": {"data": url}}], "role": "user"}],
        "stream": False,
        "extra_body": {"asr_options": {"language": "zh", "enable_itn": False}},
    }
    assert build_request(voice_wav, TRANSCRIBE, "m")["extra_body"] == {"asr_options": {"enable_itn": True}}


def test_the_wire_body_is_the_documents(emulator, voice_wav):
    request = TranslateRequest(target=None, source=parse_lang("Japanese"), task="transcribe", itn=True)
    _backend(emulator.base_url).translate(voice_wav, request, window=0)
    sent = emulator.captured[-1]
    assert sent.path == "/compatible-mode/v1/chat/completions" and sent.content_type == "application/json"
    body = json.loads(sent.body)
    assert set(body) == {"model", "messages", "stream", "asr_options"}  # no stream_options without a stream
    assert body["model"] == "qwen3-asr-flash" and body["stream"] is False
    assert body["asr_options"] == {"language": "ja", "enable_itn": True}
    (message,) = body["messages"]
    assert message["role"] == "user" and len(message["content"]) == 1
    item = message["content"][0]
    assert item == {"type": "input_audio", "input_audio": {"data": item["input_audio"]["data"]}}
    assert base64.b64decode(item["input_audio"]["data"].removeprefix("data:audio/wav;base64,")) == voice_wav.data


def test_round_trip_reads_the_transcript_and_the_detected_language(emulator, voice_wav):
    first = _backend(emulator.base_url).translate(voice_wav, TRANSCRIBE, window=0)
    assert first.language == "en" and first.text and first.text.isascii()
    assert first.usage and first.usage.total_tokens > first.usage.prompt_tokens > 0
    assert first.audio_pcm == b""
    assert _backend(emulator.base_url).translate(voice_wav, TRANSCRIBE, window=0) == first  # deterministic
    told = TranslateRequest(target=None, source=parse_lang("ko"), task="transcribe")
    korean = _backend(emulator.base_url).translate(voice_wav, told)
    assert korean.language == "ko" and all("\uac00" <= c <= "\ud7a3" for c in korean.text if c.isalpha())


def test_a_chinese_speaker_is_detected_as_chinese(voice_wav):
    with Emulator(detect_language="zh") as emu:
        result = _backend(emu.base_url).translate(voice_wav, TRANSCRIBE)
    assert result.language == "zh" and result.text.endswith("。")


def test_annotations_are_read_as_objects_or_dicts():
    class Extra:  # how the SDK keeps fields its types do not declare
        type, model_extra = "audio_info", {"language": "yue", "emotion": "neutral"}

    both = {"annotations": [{"type": "url_citation"}, {"type": "audio_info", "language": "de"}]}
    assert detected_language(both) == "de"
    assert detected_language(type("M", (), {"annotations": [Extra()]})()) == "yue"
    assert detected_language({"annotations": None}) is None and detected_language({}) is None


def test_a_window_over_10_mb_is_refused_before_it_is_sent(emulator):
    big = WindowMedia(b"\0" * (MAX_DATA_URL * 3 // 4), "audio/wav")  # base64 makes it just over 10 MB
    sent = emulator.requests
    with pytest.raises(RequestError, match=r"^window 7: the audio is 10\.0 MB as a data URL") as info:
        _backend(emulator.base_url).translate(big, TRANSCRIBE, window=7)
    assert "\n" not in str(info.value) and info.value.window == 7
    assert emulator.requests == sent, "a request the service would refuse was sent"


def test_service_errors_map_to_the_error_tree(emulator, voice_wav):
    with pytest.raises(AuthError, match="401"):
        _backend(emulator.base_url, key="sk-wrong").translate(voice_wav, TRANSCRIBE)


def test_spec_says_what_asr_can_do():
    assert backend_spec("asr") is SPEC and SPEC.family == "dashscope" and SPEC.default_model == "qwen3-asr-flash"
    assert SPEC.tasks == frozenset({"transcribe"}) and not SPEC.speaks
    # the longest window allowed fits the 10 MB data URL as dubber sends it (16 kHz mono WAV), and is
    # within the document's 5 minutes
    longest = WindowMedia(wav_bytes(np.zeros(SPEC.max_window_ms * 16, dtype=np.int16), 16000), "audio/wav")
    assert len(data_url(longest)) <= MAX_DATA_URL and SPEC.max_window_ms <= 5 * 60 * 1000
    SPEC.check(task="transcribe", max_window_ms=SPEC.max_window_ms)
    with pytest.raises(OptionError, match="cannot translate"):
        SPEC.check(task="translate")
    with pytest.raises(OptionError, match="--max-window 231 s"):
        SPEC.check(task="transcribe", max_window_ms=231_000)
    assert _backend("http://x").context_windows == 0


def test_cache_identity_names_the_endpoint_model_schema_and_settings_never_the_key():
    here = _backend("http://127.0.0.1:8001/compatible-mode/v1", key="sk-secret-one")
    identity = here.cache_identity(TRANSCRIBE)
    assert identity == {"service": "asr", "schema": identity["schema"], "endpoint": here.config.base_url,
                        "model": "qwen3-asr-flash", "language": None, "itn": True}
    assert identity["schema"] >= 1 and "sk-secret" not in repr(identity)
    assert _backend(here.config.base_url + "/", key="sk-two").cache_identity(TRANSCRIBE) == identity
    others = [_backend("http://127.0.0.1:8002/compatible-mode/v1").cache_identity(TRANSCRIBE),
              here.cache_identity(TranslateRequest(target=None, source=parse_lang("fr"), task="transcribe")),
              here.cache_identity(TranslateRequest(target=None, task="transcribe", itn=False))]
    assert all(other != identity for other in others)
