"""OpenAI's Whisper endpoints as the emulator serves them (/v1/audio/translations, /transcriptions): raw
multipart over loopback HTTP for the wire format, and the real openai SDK. /speech is test_speech.py's."""
from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import uuid

import numpy as np
import openai
import pytest
import srt
import webvtt

from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from dubber.emulator.openai_audio import read_form
from tests.emulator.helpers import make_wav, speech_signal

pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK marks translations

RATE = 16000
DOC_SEGMENT_KEYS = {"id", "text", "start", "end", "tokens", "temperature", "avg_logprob", "compression_ratio",
                    "no_speech_prob"}


def two_bursts() -> bytes:
    """Speech at 0.5-2.0 s and 3.0-5.0 s (a 1 s pause between), then 0.5 s of silence."""
    return make_wav(np.concatenate([speech_signal(1.5), speech_signal(2.0)]))


WAV = two_bursts()


def form(fields: dict) -> tuple[bytes, str]:
    """A multipart body: str values as text parts, (filename, bytes, type) tuples as file parts."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, data, kind = value
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {kind}'
        else:
            head, data = f'Content-Disposition: form-data; name="{name}"', value.encode()
        out += f"--{boundary}\r\n{head}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(emulator: Emulator, path: str, body: bytes, content_type: str, key: str = DEFAULT_KEY):
    req = urllib.request.Request(emulator.openai_base_url + path, data=body, method="POST", headers={
        "Content-Type": content_type, "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def upload(emulator: Emulator, path: str = "/audio/translations", **fields):
    fields = {"file": ("a.wav", WAV, "audio/wav"), "model": "whisper-1", **fields}
    return post(emulator, path, *form({k: v for k, v in fields.items() if v is not None}))


@pytest.fixture(scope="module")
def sdk(emulator):
    return openai.OpenAI(api_key=DEFAULT_KEY, base_url=emulator.openai_base_url, max_retries=0, timeout=20)


def _openai_error(raw: bytes) -> dict:
    body = json.loads(raw)
    assert list(body) == ["error"] and list(body["error"]) == ["message", "type", "param", "code"]
    return body["error"]


# --- translations and transcriptions ---------------------------------------------------------------

def test_verbose_json_segments_cover_the_voiced_audio(emulator):
    status, headers, raw = upload(emulator, response_format="verbose_json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    body = json.loads(raw)
    assert (body["task"], body["language"], body["duration"]) == ("translate", "english", 5.5)
    segs = body["segments"]
    assert [s["id"] for s in segs] == [0, 1]
    assert all(DOC_SEGMENT_KEYS <= set(s) for s in segs)
    for seg, (start, end) in zip(segs, [(0.5, 2.0), (3.0, 5.0)]):
        assert abs(seg["start"] - start) <= 0.04 and abs(seg["end"] - end) <= 0.04
        assert round(seg["start"] * 50, 6) % 1 == 0, "timestamps fall on Whisper's 20 ms steps"
        assert seg["text"].startswith(" ") and seg["text"].strip()[0].isupper()
        assert len(seg["tokens"]) == len(seg["text"].split())
    assert body["text"] == "".join(s["text"] for s in segs).strip()
    assert upload(emulator, response_format="verbose_json")[2] == raw, "answers are deterministic"


def test_each_response_format_in_its_own_shape(emulator):
    text = json.loads(upload(emulator)[2])["text"]  # json is the default
    status, headers, raw = upload(emulator, response_format="json")
    assert text and (status, headers["Content-Type"], json.loads(raw)) == (200, "application/json", {"text": text})
    status, headers, raw = upload(emulator, response_format="text")
    assert (status, headers["Content-Type"], raw.decode()) == (200, "text/plain; charset=utf-8", text + "\n")
    subs = list(srt.parse(upload(emulator, response_format="srt")[2].decode()))
    assert [s.index for s in subs] == [1, 2] and " ".join(s.content for s in subs) == text
    assert abs(subs[1].start.total_seconds() - 3.0) <= 0.04
    captions = webvtt.from_buffer(io.StringIO(upload(emulator, response_format="vtt")[2].decode()))
    assert [c.text for c in captions] == [s.content for s in subs]


def test_transcription_answers_in_the_language_given_else_detected(emulator, sdk):
    path = "/audio/transcriptions"
    zh = json.loads(upload(emulator, path, language="zh", response_format="verbose_json")[2])
    assert zh["task"] == "transcribe" and zh["language"] == "chinese"
    assert zh["text"] and not zh["text"].isascii() and not zh["segments"][0]["text"].startswith(" ")
    detected = sdk.audio.transcriptions.create(file=("a.wav", WAV, "audio/wav"), model="whisper-1",
                                               response_format="verbose_json")
    assert detected.language == "english" and detected.text.isascii() and len(detected.segments) == 2


def test_the_detected_language_is_the_emulators_setting():
    with Emulator(detect_language="ja") as emu:
        body = json.loads(upload(emu, "/audio/transcriptions", response_format="verbose_json")[2])
        translated = json.loads(upload(emu, response_format="verbose_json")[2])
    assert body["language"] == "japanese" and not body["text"].isascii()
    assert translated["language"] == "english" and translated["text"].isascii()


def test_silence_gives_no_segments(emulator):
    body = json.loads(upload(emulator, file=("q.wav", make_wav(np.zeros(RATE)), "audio/wav"),
                             response_format="verbose_json")[2])
    assert body["text"] == "" and body["segments"] == [] and body["duration"] == 1.0


@pytest.mark.parametrize("fields, status, param, code", [
    (dict(file=None), 400, "file", "missing_required_parameter"),
    (dict(model=None), 400, "model", "missing_required_parameter"),
    (dict(file="not a file"), 400, "file", "invalid_value"),
    (dict(model="whisper-9"), 404, "model", "model_not_found"),
    (dict(model="tts-1"), 404, "model", "model_not_found"),  # a model of another endpoint
    (dict(file=("notes.txt", b"hello", "text/plain")), 400, "file", "invalid_value"),
    (dict(file=("talk.mp3", b"ID3", "audio/mpeg")), 400, "file", "invalid_value"),  # accepted, not decodable here
    (dict(file=("bad.wav", b"RIFF....WAVE", "audio/wav")), 400, "file", "invalid_value"),
    (dict(response_format="xml"), 400, "response_format", "invalid_value"),
    (dict(temperature="1.5"), 400, "temperature", "invalid_value"),
])
def test_refusals_in_openai_shape(emulator, fields, status, param, code):
    got, headers, raw = upload(emulator, **fields)
    error = _openai_error(raw)
    assert (got, error["param"], error["code"], error["type"]) == (status, param, code, "invalid_request_error")
    assert headers["x-request-id"] and headers["x-request-id"] not in raw.decode()


def test_bad_language_and_a_non_form_body(emulator):
    error = _openai_error(upload(emulator, "/audio/transcriptions", language="english")[2])
    assert (error["param"], error["code"]) == ("language", "invalid_language_format")
    status, _, raw = post(emulator, "/audio/translations", b'{"model": "whisper-1"}', "application/json")
    assert status == 400 and "multipart" in _openai_error(raw)["message"]


def test_a_file_over_25_mb_is_413(emulator):
    big = WAV + bytes(25 * 1024 * 1024 - len(WAV) + 1)
    status, _, raw = upload(emulator, file=("big.wav", big, "audio/wav"))
    error = _openai_error(raw)
    assert status == 413 and error["param"] == "file" and "26214400" in error["message"]


def test_a_rate_limit_fault_speaks_openai():
    with Emulator(faults=Faults(fail_429_every=1, retry_after=0.25)) as emu:
        status, headers, raw = upload(emu)
    error = _openai_error(raw)
    assert status == 429 and (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert headers["Retry-After"] == "0.25" and headers["retry-after-ms"] == "250"


def test_the_sdk_reads_every_answer(sdk):
    verbose = sdk.audio.translations.create(file=("a.wav", WAV, "audio/wav"), model="whisper-1",
                                            response_format="verbose_json")
    assert verbose.duration == 5.5 and [round(s.start, 2) for s in verbose.segments] == [0.5, 3.0]
    plain = sdk.audio.translations.create(file=("a.wav", WAV, "audio/wav"), model="whisper-1")
    assert plain.text == verbose.text
    with pytest.raises(openai.BadRequestError):
        sdk.audio.translations.create(file=("a.ogg", WAV, "audio/ogg"), model="whisper-1")


def test_the_form_reader_keeps_binary_files_byte_exact():
    data = bytes(range(256)) * 8 + b"\r\n--\r\n\r\n\n\r"
    body, _ = form({"model": "whisper-1", "file": ("a.wav", data, "audio/wav")})
    fields = read_form(body)
    assert fields["model"] == "whisper-1"
    assert (fields["file"].filename, fields["file"].content_type, fields["file"].data) == ("a.wav", "audio/wav", data)
