"""The emulator over real loopback HTTP, through the real openai SDK (and urllib for the raw wire)."""
from __future__ import annotations

import base64
import io
import json
import logging
import re
import threading
import urllib.error
import urllib.request
import wave

import numpy as np
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.emulator import CHAT_PATH, DEFAULT_KEY, Emulator
from dubber.emulator_content import placeholder_speech, placeholder_text, voiced_ms
from dubber.languages import CJK, SUPPORTED

MODEL = "qwen3-livetranslate-flash"
RATE = 16000
SECRET = "sk-do-not-leak-0123456789"


# --- input audio ---------------------------------------------------------------------------------

def make_wav(signal: np.ndarray, rate: int = RATE, channels: int = 1, width: int = 2) -> bytes:
    """``signal`` in [-1, 1], shaped (n,) or (n, channels)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        if width == 1:
            wav.writeframes(np.round(signal * 127 + 128).astype(np.uint8).tobytes())
        else:
            wav.writeframes(np.round(signal * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def speech_signal(voiced_s: float, rate: int = RATE) -> np.ndarray:
    """0.5 s silence, ``voiced_s`` of a 200 Hz buzz with 4 Hz amplitude modulation, 0.5 s silence."""
    t = np.arange(round(voiced_s * rate)) / rate
    buzz = 0.5 * np.sin(2 * np.pi * 200 * t) * (0.75 + 0.25 * np.sin(2 * np.pi * 4 * t))
    silence = np.zeros(rate // 2)
    return np.concatenate([silence, buzz, silence])


def data_url(wav_bytes: bytes) -> str:
    return "data:audio/wav;base64," + base64.b64encode(wav_bytes).decode()


SPEECH_1S5 = data_url(make_wav(speech_signal(1.5)))
SPEECH_3S = data_url(make_wav(speech_signal(3.0)))
SILENCE = data_url(make_wav(np.zeros(RATE)))
SHORT = data_url(make_wav(speech_signal(0.2)))


def request(audio: str = SHORT, target: str = "en", with_audio: bool = True, **extra) -> dict:
    """A valid raw request body, as the HTTP API takes it."""
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}}]}],
        "translation_options": {"source_lang": "zh", "target_lang": target},
        "stream": False,
    }
    if with_audio:
        body.update(modalities=["text", "audio"], audio={"voice": "Cherry", "format": "wav"})
    body.update(extra)
    return body


# --- plumbing --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def emulator():
    with Emulator(port=0) as emu:
        yield emu


@pytest.fixture(scope="module")
def client(emulator):
    return openai.OpenAI(api_key=DEFAULT_KEY, base_url=emulator.base_url, max_retries=0, timeout=10)


def sdk_create(client: openai.OpenAI, body: dict):
    """Send a raw body through ``chat.completions.create``; non-standard fields go in extra_body."""
    standard = {k: body[k] for k in ("model", "messages", "modalities", "audio", "stream",
                                     "stream_options") if k in body}
    rest = {k: v for k, v in body.items() if k not in standard}
    return client.chat.completions.create(**standard, extra_body=rest)


def http_post(emulator: Emulator, body: bytes, key: str | None = DEFAULT_KEY, query: str = ""):
    """POST raw bytes with urllib; return (status, headers, body bytes)."""
    url = emulator.base_url.removesuffix("/compatible-mode/v1") + CHAT_PATH + query
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def audio_field(audio, name: str):
    """openai 3.x types ``delta.audio``; older SDKs (and unknown shapes) leave a dict."""
    return audio.get(name) if isinstance(audio, dict) else getattr(audio, name, None)


def collect_stream(client: openai.OpenAI, body: dict) -> dict:
    """Stream ``body`` and gather what a client would: text, joined PCM, the audio deltas, usage."""
    text, pcm, deltas, finish, last = "", b"", [], [], None
    for chunk in sdk_create(client, {**body, "stream": True, "stream_options": {"include_usage": True}}):
        last = chunk
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text += delta.content or ""
        finish.append(chunk.choices[0].finish_reason)
        if delta.audio is not None:
            data = audio_field(delta.audio, "data")
            deltas.append(data)
            pcm += base64.b64decode(data) if data else b""  # join bytes: pieces split samples
    return {"text": text, "pcm": pcm, "deltas": deltas, "finish": finish, "last": last}


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
    assert re.fullmatch(r"[\u4e00-\u9fff。]+", text) and text.endswith("。")
    assert len(text.replace("。", "")) == 6  # 1.5 s × 4 characters a second


def test_full_language_names_and_stereo_44k_are_accepted(client):
    stereo = np.repeat(speech_signal(1.5, 44100)[:, None], 2, axis=1)
    body = request(data_url(make_wav(stereo, 44100, channels=2)), target="English")
    body["translation_options"]["source_lang"] = "Chinese"
    result = collect_stream(client, body)
    assert abs(len(result["text"].split()) - 4) <= 1 and result["pcm"]


def test_requests_are_counted(client, emulator):
    before = emulator.requests
    sdk_create(client, request(with_audio=False))
    assert emulator.requests == before + 1


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
    (_mutate("messages.0.content.0", {"type": "video_url", "video_url": {"url": "https://x/1.mp4"}}),
     400, openai.BadRequestError, "messages[0].content[0].type", "video input is not supported"),
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


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_bodies_that_are_not_json_objects_are_refused(emulator, raw):
    status, _, body = http_post(emulator, raw)
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_parameter_error"


@pytest.mark.parametrize("key", [None, "sk-unknown", ""])
def test_missing_or_unknown_key_is_refused(emulator, key):
    status, _, raw = http_post(emulator, json.dumps(request()).encode(), key=key)
    body = json.loads(raw)
    assert status == 401 and body["error"] == {
        "code": "invalid_api_key", "message": "Incorrect API key provided.",
        "type": "invalid_request_error", "param": None}
    assert re.fullmatch(r"[0-9a-f-]{36}", body["request_id"])


def test_unknown_key_raises_authentication_error_without_the_key(emulator, caplog):
    caplog.set_level(logging.DEBUG, logger="dubber.emulator")
    bad = openai.OpenAI(api_key=SECRET, base_url=emulator.base_url, max_retries=0, timeout=10)
    with pytest.raises(openai.AuthenticationError, match="Incorrect API key provided") as caught:
        sdk_create(bad, request())
    assert SECRET not in str(caught.value.body) and SECRET not in caught.value.response.text
    assert "401" in caplog.text and SECRET not in caplog.text


def test_key_never_reaches_logs_or_bodies(emulator, caplog):
    caplog.set_level(logging.DEBUG, logger="dubber.emulator")
    good = Emulator(port=0, keys=[SECRET]).start()
    try:
        for query in ("", f"?api_key={SECRET}"):
            status, _, raw = http_post(good, json.dumps(request()).encode(), key=SECRET, query=query)
            assert status == 200 and SECRET.encode() not in raw
        status, _, raw = http_post(good, b"{}", key=SECRET)
        assert status == 400 and SECRET.encode() not in raw
    finally:
        good.stop()
    assert "200" in caplog.text and SECRET not in caplog.text


def test_unknown_paths_are_404_json(emulator, client):
    url = emulator.base_url + "/models"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=10)
    assert caught.value.code == 404 and json.loads(caught.value.read())["error"]["code"] == "not_found"
    with pytest.raises(openai.NotFoundError):
        client.models.list()


# --- the pure generators -------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(voiced=st.integers(1, 120_000), lang=st.sampled_from(sorted(SUPPORTED)), seed=st.integers(0, 2**64 - 1))
def test_placeholder_text_shape(voiced, lang, seed):
    text = placeholder_text(voiced, lang, seed)
    assert text == placeholder_text(voiced, lang, seed)
    if lang in CJK:
        sentences = text.split("。")[:-1]
        assert text.endswith("。") and abs(sum(map(len, sentences)) - voiced / 250) <= 1
        return
    sentences = text.split(". ")
    assert text.endswith(".") and abs(len(text.split()) - voiced / 400) <= 1
    for sentence in sentences:
        words = sentence.rstrip(".").split(" ")
        assert sentence[0].isupper() and (4 <= len(words) <= 12 or len(sentences) == 1)


@pytest.mark.parametrize("voiced", [0, 20, 1500, 7000])
def test_placeholder_speech_length_level_and_fades(voiced):
    pcm = placeholder_speech(voiced, seed=42)
    assert pcm == placeholder_speech(voiced, seed=42)
    samples = np.frombuffer(pcm, dtype="<i2")
    assert voiced * 24 <= len(samples) <= voiced * 24 * 1.15 + 1
    if voiced:
        assert abs(20 * np.log10(np.abs(samples).max() / 32768) + 6) < 0.1
        assert samples[0] == 0 and abs(int(samples[-1])) < 200


def test_voiced_ms_counts_speech_frames_only():
    as_int16 = lambda s: np.round(s * 32767).astype(np.int16)  # noqa: E731
    assert voiced_ms(as_int16(speech_signal(1.5)), RATE) == 1500
    assert voiced_ms(as_int16(speech_signal(1.5)[RATE // 2 : -RATE // 2]), RATE) == 1500  # no silence
    assert voiced_ms(np.zeros(RATE, dtype=np.int16), RATE) == 0
    assert voiced_ms(np.zeros(10, dtype=np.int16), RATE) == 0


def test_serve_forever_stops_from_another_thread():
    emu = Emulator(port=0)
    stopper = threading.Timer(0.2, emu.stop)
    stopper.start()
    emu.serve_forever()  # the CLI's blocking mode: returns once stop() is called
    stopper.join()
    emu.stop()  # idempotent
