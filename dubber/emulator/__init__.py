"""An offline stand-in for the speech APIs dubber talks to, over their real wire formats.

Today it emulates qwen3-livetranslate-flash behind DashScope's OpenAI-compatible endpoint: it checks
requests the way the service does, answers in the service's wire format (DashScope-shaped errors,
streamed text then audio deltas, a usage chunk) with deterministic placeholder text and speech sized
like the input's speech, or a fixed text. On request it misbehaves like a busy service: latency, 429
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
