"""The livetranslate client: the request it builds (pure), how it folds a stream, and a real round trip
through the emulator whose audio deltas have odd byte lengths and sometimes no data."""
from __future__ import annotations

import base64
import wave
from io import BytesIO
from types import SimpleNamespace

import numpy as np
import pytest

from dubber.backends import BackendConfig, TranslateRequest, WindowMedia
from dubber.backends.chat_stream import audio_delta_data, collect_stream
from dubber.backends.livetranslate import LiveTranslate, build_request
from dubber.errors import AuthError, RequestError, TransientError
from dubber.languages import parse_lang
from dubber.media.audio import wav_bytes
from tests.support.mediagen import utterance


def _chunk(content=None, audio=None, finish=None, usage=None, choices=True):
    delta = SimpleNamespace(content=content, audio=audio, role=None)
    choice = SimpleNamespace(delta=delta, finish_reason=finish, index=0)
    return SimpleNamespace(choices=[choice] if choices else [], usage=usage)


def test_request_matches_the_documented_shape():
    wav = WindowMedia(wav_bytes(np.zeros(160, dtype=np.int16), 16000), "audio/wav")
    request = TranslateRequest(target=parse_lang("en"), source=parse_lang("zh-CN"), want_audio=True, voice="Ethan")
    kwargs = build_request(wav, request, "qwen3-livetranslate-flash")
    assert kwargs["messages"] == [{"role": "user", "content": [{"type": "input_audio", "input_audio": {
        "data": "data:audio/wav;base64," + base64.b64encode(wav.data).decode(), "format": "wav"}}]}]
    assert kwargs["extra_body"] == {"translation_options": {"source_lang": "zh", "target_lang": "en"}}
    assert kwargs["modalities"] == ["text", "audio"] and kwargs["audio"] == {"voice": "Ethan", "format": "wav"}
    assert kwargs["stream"] is True and kwargs["stream_options"] == {"include_usage": True}
    with wave.open(BytesIO(wav.data)) as parsed:
        assert (parsed.getframerate(), parsed.getnchannels(), parsed.getsampwidth()) == (16000, 1, 2)


def test_text_only_request_omits_audio_and_source():
    kwargs = build_request(WindowMedia(b"RIFF", "audio/wav"), TranslateRequest(target=parse_lang("ja")), "m")
    assert kwargs["modalities"] == ["text"] and "audio" not in kwargs
    assert kwargs["extra_body"] == {"translation_options": {"target_lang": "ja"}}


@pytest.mark.parametrize("audio", [{"data": "AAE="}, SimpleNamespace(data="AAE=", id="a", expires_at=1)])
def test_audio_delta_is_read_as_dict_or_object(audio):
    assert audio_delta_data(SimpleNamespace(audio=audio)) == "AAE="


def test_audio_delta_without_data_or_audio():
    assert audio_delta_data(SimpleNamespace(audio={"id": "x"})) is None
    assert audio_delta_data(SimpleNamespace(audio=None)) is None
    assert audio_delta_data(SimpleNamespace(audio=None, model_extra={"audio": {"data": "AA=="}})) == "AA=="


def test_deltas_are_decoded_one_by_one_and_joined_as_bytes():
    pcm = bytes(range(256)) * 3  # 768 bytes, split at odd offsets so no delta holds whole samples
    pieces = [pcm[0:101], pcm[101:102], pcm[102:500], pcm[500:]]
    chunks = [_chunk(content="Hello "), _chunk(content="world.")]
    chunks += [_chunk(audio={"data": base64.b64encode(p).decode()}) for p in pieces[:2]]
    chunks += [_chunk(audio={"id": "no-data"})]
    chunks += [_chunk(audio={"data": base64.b64encode(p).decode()}) for p in pieces[2:]]
    chunks += [_chunk(finish="stop"), _chunk(choices=False, usage=SimpleNamespace(
        prompt_tokens=3, completion_tokens=4, total_tokens=7))]
    result = collect_stream(chunks)
    assert result.text == "Hello world." and result.audio_pcm == pcm and result.usage.total_tokens == 7


def test_stream_cut_before_finish_is_transient_and_never_half_used():
    with pytest.raises(TransientError):
        collect_stream([_chunk(content="Half a sen")])


@pytest.fixture()
def voice_wav() -> WindowMedia:
    pcm = np.concatenate([np.zeros(4000, np.int16), utterance("en02"), np.zeros(4000, np.int16)])
    return WindowMedia(wav_bytes(pcm, 16000), "audio/wav")


def test_round_trip_through_the_emulator(emulator, voice_wav):
    from dubber.emulator import DEFAULT_KEY

    backend = LiveTranslate(BackendConfig(api_key=DEFAULT_KEY, base_url=emulator.base_url))
    request = TranslateRequest(target=parse_lang("fr"), want_audio=True)
    first = backend.translate(voice_wav, request, window=0)
    assert first.text and first.usage and first.usage.total_tokens > 0
    assert len(first.audio_pcm) % 2 == 0 and first.audio_rate == 24000
    seconds = len(first.audio_pcm) / 2 / 24000
    assert 1.5 < seconds < 3.5  # follows the ~2.4 s of voice sent
    assert backend.translate(voice_wav, request, window=0) == first  # the emulator is deterministic


def test_service_errors_map_to_the_error_tree(emulator, voice_wav):
    from dubber.emulator import DEFAULT_KEY

    with pytest.raises(AuthError, match="401"):
        LiveTranslate(BackendConfig(api_key="sk-wrong", base_url=emulator.base_url)).translate(
            voice_wav, TranslateRequest(target=parse_lang("en")))
    with pytest.raises(RequestError, match="404") as info:
        LiveTranslate(BackendConfig(api_key=DEFAULT_KEY, base_url=emulator.base_url, model="nope")).translate(
            voice_wav, TranslateRequest(target=parse_lang("en")), window=3)
    assert info.value.window == 3 and str(info.value).startswith("window 3:")


def test_cache_identity_names_the_endpoint_model_schema_and_settings_never_the_key():
    fr, de = TranslateRequest(target=parse_lang("fr")), TranslateRequest(target=parse_lang("de"))
    here = LiveTranslate(BackendConfig(api_key="sk-secret-one", base_url="http://127.0.0.1:8001/compatible-mode/v1"))
    identity = here.cache_identity(fr)
    assert identity["endpoint"] == "http://127.0.0.1:8001/compatible-mode/v1"
    assert identity["model"] == "qwen3-livetranslate-flash" and identity["schema"] >= 1
    assert identity["target"] == "fr" and identity["audio"] is False
    assert "sk-secret-one" not in repr(identity)
    other_key = LiveTranslate(BackendConfig(api_key="sk-secret-two", base_url=here.config.base_url + "/"))
    assert other_key.cache_identity(fr) == identity  # the key and a trailing slash change no answer
    other_port = LiveTranslate(BackendConfig(api_key="k", base_url="http://127.0.0.1:8002/compatible-mode/v1"))
    other_model = LiveTranslate(BackendConfig(api_key="k", base_url=here.config.base_url,
                                              model="qwen3-livetranslate-flash-2025-12-01"))
    spoken = TranslateRequest(target=parse_lang("fr"), want_audio=True, voice="Cherry")
    differing = [other_port.cache_identity(fr), other_model.cache_identity(fr), here.cache_identity(de),
                 here.cache_identity(spoken)]
    assert all(d != identity for d in differing)


def test_the_request_on_the_wire_matches_the_document(emulator, voice_wav):
    """What the SDK sends, as the emulator received it: extra_body's fields land at the top level, as the
    document's HTTP examples have them."""
    import json

    from dubber.emulator import CHAT_PATH, DEFAULT_KEY

    backend = LiveTranslate(BackendConfig(api_key=DEFAULT_KEY, base_url=emulator.base_url))
    backend.translate(voice_wav, TranslateRequest(target=parse_lang("fr"), source=parse_lang("en"),
                                                  want_audio=True, voice="Cherry"), window=0)
    sent = emulator.captured[-1]
    assert (sent.method, sent.path, sent.content_type) == ("POST", CHAT_PATH, "application/json")
    body = json.loads(sent.body)
    assert set(body) == {"model", "messages", "modalities", "audio", "stream", "stream_options",
                         "translation_options"}
    assert body["model"] == "qwen3-livetranslate-flash" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["modalities"] == ["text", "audio"] and body["audio"] == {"voice": "Cherry", "format": "wav"}
    assert body["translation_options"] == {"source_lang": "en", "target_lang": "fr"}
    [message] = body["messages"]
    [item] = message["content"]
    assert message["role"] == "user" and item["type"] == "input_audio" and item["input_audio"]["format"] == "wav"
    data = item["input_audio"]["data"]
    assert data.startswith("data:audio/wav;base64,")
    assert base64.b64decode(data.split(",", 1)[1]) == voice_wav.data


def test_an_answer_still_streaming_past_its_deadline_is_abandoned_as_transient():
    """The SDK's timeout bounds each read; a stream that trickles must still end (and be retried)."""
    clock = iter([0.0, 1.0, 2.0, 301.0, 302.0]).__next__  # the third chunk arrives past a 300 s deadline
    chunks = [_chunk(content="a"), _chunk(content="b"), _chunk(content="c"), _chunk(finish="stop")]
    with pytest.raises(TransientError, match="still streaming after 300 s"):
        collect_stream(chunks, deadline_s=300.0, clock=clock)
    assert collect_stream(chunks[:2] + chunks[3:], deadline_s=300.0).text == "ab"
