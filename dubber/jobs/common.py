"""What every job shares: the options, and the first stages: probe → decode the audio once → find the
speech → plan the windows → translate every window (concurrently, retried, cached)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from dubber.backends import Backend, BackendConfig, TranslateRequest
from dubber.languages import Lang
from dubber.media.audio import ANALYSIS_RATE, extract_pcm, load_pcm, wav_bytes
from dubber.models import Loudness, MediaInfo, Span, Translation, Usage, Window
from dubber.speech import vad
from dubber.speech.windows import WindowOptions, plan_windows
from dubber.subtitles.cues import CueOptions
from dubber.translate.fetch import FetchOptions, FetchPlan, fetch_all

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobBase:
    """What every job shares: the input, the languages, the service, how the audio becomes windows and
    windows become requests, and the cue rules."""

    input: Path
    target: Lang
    backend_config: BackendConfig
    source: Lang | None = None
    backend: str = "livetranslate"
    vad_method: str = vad.DEFAULT_METHOD
    windows: WindowOptions = field(default_factory=WindowOptions)
    cues: CueOptions = field(default_factory=CueOptions)
    fetch: FetchOptions = field(default_factory=FetchOptions)


@dataclass(frozen=True)
class Analysis:
    """The input's audio (mono PCM16 at ANALYSIS_RATE, memory-mapped), its speech and its windows, and the
    original's loudness when the job asked for it during the decode."""

    info: MediaInfo
    pcm: np.ndarray
    duration_ms: int
    speech: tuple[Span, ...]
    windows: tuple[Window, ...]
    loudness: Loudness | None = None


def analyse(info: MediaInfo, workdir: Path, vad_method: str, options: WindowOptions,
            measure_prefilter: str | None = None) -> Analysis:
    """Decode once, find the speech, plan the windows. ``measure_prefilter`` (see ``extract_pcm``) also
    measures the original's loudness in the same decode."""
    raw = workdir / "audio.pcm"
    loudness = extract_pcm(info, raw, measure_prefilter=measure_prefilter)
    pcm = load_pcm(raw)
    levels = vad.frame_levels(pcm, ANALYSIS_RATE)  # once: the detector and the planner both use them
    speech = vad.detect_speech(pcm, ANALYSIS_RATE, method=vad_method, levels=levels)
    duration_ms = max(info.duration_ms, len(pcm) * 1000 // ANALYSIS_RATE)
    windows = plan_windows(speech, duration_ms, levels, vad.FRAME_MS, options)
    log.info("%s: %d ms of speech in %d windows", info.path.name, sum(s.duration_ms for s in speech), len(windows))
    return Analysis(info, pcm, duration_ms, tuple(speech), tuple(windows), loudness)


def window_wav(pcm: np.ndarray, window: Window) -> bytes:
    per_ms = ANALYSIS_RATE // 1000
    return wav_bytes(pcm[window.start_ms * per_ms:window.end_ms * per_ms], ANALYSIS_RATE)


def translate_windows(backend: Backend, analysis: Analysis, request: TranslateRequest, *,
                      fetch: FetchOptions = FetchOptions(),
                      on_done: Callable[[Translation], None] | None = None,
                      keep: Callable[[Translation], Translation] | None = None) -> list[Translation]:
    """Translate every window (concurrently, cached, retried); results in window order (see fetch_all)."""
    plan = FetchPlan(analysis.windows, lambda w: window_wav(analysis.pcm, w), request)
    translations, stats = fetch_all(backend, plan, fetch, on_done, keep)
    log.info("%d windows: %d from the cache, %d requested", len(translations), stats.cached, stats.fetched)
    return translations


def total_usage(translations: Sequence[Translation]) -> Usage:
    usages = [t.result.usage for t in translations if t.result.usage is not None]
    return Usage(*(sum(getattr(u, f) for u in usages) for f in ("prompt_tokens", "completion_tokens", "total_tokens")))
