"""An offline stand-in for the speech APIs dubber talks to, over their real wire formats.

It emulates qwen3-livetranslate-flash (audio and video input), qwen3-omni-flash and qwen3-asr-flash
behind DashScope's OpenAI-compatible endpoint (``/compatible-mode/v1``), and OpenAI's Whisper and
text-to-speech endpoints (``/v1/audio/*``). It checks requests the way each service does, answers in its
wire format and error dialect, with deterministic placeholder text (in the language's own script) and
speech sized like the input's speech, or a fixed text; a text to speak is read back, with speech as long
as reading it aloud takes. On request it misbehaves like a busy service: latency, 429
with Retry-After, 500, answers cut off midway. Tests, benchmarks and demos run the real openai SDK
against it over loopback, with no network and no key.

The package, one concern a module:

    server         the socket: Emulator, its settings and counters, start and stop
    handler        one HTTP exchange: read, route, check, number for faults, send the reply
    routing        the registry of services: path, then the body's model, picks one
    service        the contract a service fulfils (Service, Context, Reply)
    dialects       error shapes: DashScope's and OpenAI's
    checks         the field checks validators are made of
    faults         the fault schedule: latency, 429, 500, dropped answers
    synth          placeholder text and speech (pure, shared by every service)
    chat           the chat-completions wire format the chat models share
    livetranslate  qwen3-livetranslate-flash: its checks and its answer
    video          video input (video_url): the clip's sound decoded in-process, its video tokens
    omni           qwen3-omni-flash: its checks (streaming only, voices per model) and its answer, to audio
                   or to a line of text it reads aloud
    asr            qwen3-asr-flash: its checks and its transcript, with the language it "hears"
    openai_audio   what OpenAI's /v1/audio endpoints share: form bodies, OpenAI-style refusals, byte replies
    whisper        whisper-1: /v1/audio/translations and /v1/audio/transcriptions
    speech         tts-1, tts-1-hd, gpt-4o-mini-tts: /v1/audio/speech, voices per model

Code outside the emulator imports only from ``dubber.emulator``.
"""
from __future__ import annotations

from dubber.emulator.chat import CHAT_PATH
from dubber.emulator.faults import Fault, Faults
from dubber.emulator.livetranslate import MODELS
from dubber.emulator.server import DEFAULT_KEY, OPENAI_PREFIX, Emulator, EmulatorConfig, EmulatorStats
from dubber.emulator.service import API_PREFIX, Captured

__all__ = ["API_PREFIX", "CHAT_PATH", "DEFAULT_KEY", "MODELS", "OPENAI_PREFIX", "Captured", "Emulator",
           "EmulatorConfig", "EmulatorStats", "Fault", "Faults"]
