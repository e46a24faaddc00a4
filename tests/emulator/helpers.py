"""Shared by the emulator's tests: request bodies with synthetic speech, and clients for the raw wire and the SDK."""
from __future__ import annotations

import base64
import io
import urllib.error
import urllib.request
import wave

import numpy as np
import openai

from dubber.emulator import CHAT_PATH, DEFAULT_KEY, Emulator

MODEL = "qwen3-livetranslate-flash"
RATE = 16000


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


# --- clients ---------------------------------------------------------------------------------------

def sdk_create(client: openai.OpenAI, body: dict):
    """Send a raw body through ``chat.completions.create``; non-standard fields go in extra_body."""
    standard = {k: body[k] for k in ("model", "messages", "modalities", "audio", "stream",
                                     "stream_options") if k in body}
    rest = {k: v for k, v in body.items() if k not in standard}
    return client.chat.completions.create(**standard, extra_body=rest)


def http_post(emulator: Emulator, body: bytes, key: str | None = DEFAULT_KEY, query: str = "",
              path: str = CHAT_PATH):
    """POST raw bytes with urllib; return (status, headers, body bytes)."""
    url = emulator.base_url.removesuffix("/compatible-mode/v1") + path + query
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
