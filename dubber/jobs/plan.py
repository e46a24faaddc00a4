"""`dubber plan`: what a run would send and roughly what it would cost, without sending anything.

It runs the same first stages a job does (probe, one decode, speech, windows) and estimates from them.
The estimate's rules, stated so a reader can redo the sums (they are estimates, not quotes):

- **requests**: one per window per target language, plus one per window for ``--bilingual`` (the source
  transcript), plus, for a whisper dub, one speech request per window per language;
- **prompt tokens**: 25 a second of audio sent (the rate qwen3's audio models bill input audio at; the
  documents' usage examples agree), for every request that sends audio;
- **completion tokens**: about 4 text tokens a second of speech (speech runs near 2.5 words a second, a
  word near 1.5 tokens), plus, when dubbing, 12.5 audio tokens a second of speech;
- **wall time**: requests go ``jobs`` at a time (one at a time for a backend that carries context), each
  assumed to take 1 s plus 0.1 s per second of audio it sends.

Whisper bills by the minute of audio, not by tokens: its plan gives the minutes instead.
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dubber.backends import backend_spec
from dubber.jobs.common import analyse
from dubber.media.capability import choose, decode_needs, dub_needs
from dubber.media.mux import default_suffix, output_kind
from dubber.media.probe import probe
from dubber.models import Window
from dubber.speech.windows import WindowOptions

AUDIO_TOKENS_PER_S = 25.0
TEXT_TOKENS_PER_SPEECH_S = 4.0
SPEECH_TOKENS_PER_S = 12.5
REQUEST_S, REQUEST_S_PER_AUDIO_S = 1.0, 0.1


@dataclass(frozen=True)
class PlanRequest:
    """What the run would be: its input and how it would be cut and sent."""

    input: Path
    backend: str
    languages: tuple[str, ...]  # target codes; empty: transcribe
    dub: bool = False
    bilingual: bool = False
    jobs: int = 4
    vad_method: str = "energy"
    windows: WindowOptions = WindowOptions()


@dataclass(frozen=True)
class Plan:
    media_ms: int
    speech_ms: int
    sent_ms: int  # the audio the windows send: speech, the pauses inside windows, their padding
    windows: int
    requests: int
    prompt_tokens: int | None  # None: the backend bills by the minute (whisper)
    completion_tokens: int | None
    wall_s: float
    in_order: bool  # the backend carries context: its windows go one at a time


def estimate(windows: list[Window], media_ms: int, speech_ms: int, request: PlanRequest) -> Plan:
    """The plan's figures for these windows (pure: the rules are the module docstring's)."""
    spec = backend_spec(request.backend)
    sent_s = sum(w.duration_ms for w in windows) / 1000
    speech_s = speech_ms / 1000
    passes = max(1, len(request.languages)) + (1 if request.bilingual else 0)
    speech_requests = len(windows) * len(request.languages) if request.dub and request.backend == "whisper" else 0
    requests = len(windows) * passes + speech_requests
    tokens = spec.family == "dashscope"
    prompt = round(AUDIO_TOKENS_PER_S * sent_s * passes) if tokens else None
    spoken = SPEECH_TOKENS_PER_S * speech_s * len(request.languages) if request.dub else 0.0
    completion = round(TEXT_TOKENS_PER_SPEECH_S * speech_s * passes + spoken) if tokens else None
    in_order = getattr(spec.make, "context_windows", 0) > 0  # windows that carry the ones before them
    lanes = 1 if in_order else max(1, request.jobs)
    per_request = REQUEST_S + REQUEST_S_PER_AUDIO_S * (sent_s / len(windows) if windows else 0.0)
    wall = math.ceil(requests / lanes) * per_request if requests else 0.0
    return Plan(media_ms, speech_ms, round(sent_s * 1000), len(windows), requests, prompt, completion, wall, in_order)


def plan(request: PlanRequest) -> Plan:
    """Probe, decode once, find the speech, plan the windows: everything but the requests."""
    info = probe(request.input)
    # what the run would refuse, the plan refuses: it decodes as the run does, and a dub (into the input's
    # own kind of file, the default) needs more
    if request.dub:
        choose(dub_needs(output_kind(Path(f"dub.{default_suffix(request.input, info.has_video)}"))), "dub")
    else:
        choose(decode_needs(), "decode the audio")
    with tempfile.TemporaryDirectory(prefix="dubber-") as tmp:
        analysis = analyse(info, Path(tmp), request.vad_method, request.windows)
    return estimate(list(analysis.windows), analysis.duration_ms, sum(s.duration_ms for s in analysis.speech), request)
