"""Runs the stages in order: probe → extract → detect speech → plan windows → translate → cues → files."""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from dubber import media, vad
from dubber.backends import Backend, BackendConfig, TranslateRequest, make_backend
from dubber.fetch import FetchOptions, FetchPlan, fetch_all
from dubber.languages import Lang
from dubber.models import MediaInfo, Span, Translation, Usage, Window
from dubber.outputs import guard_input, output_path, prepare_dir, write_text_atomic
from dubber.subtitles import WRITERS, CueOptions, build_cues
from dubber.windows import WindowOptions, plan_windows

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
class SubtitleJob(JobBase):
    formats: tuple[str, ...] = ("srt", "vtt")
    out_dir: Path | None = None


@dataclass(frozen=True)
class Analysis:
    """The input's audio (mono PCM16 at ANALYSIS_RATE, memory-mapped), its speech and its windows."""

    info: MediaInfo
    pcm: np.ndarray
    duration_ms: int
    speech: tuple[Span, ...]
    windows: tuple[Window, ...]


@dataclass(frozen=True)
class SubtitleReport:
    outputs: tuple[Path, ...]
    duration_ms: int
    speech_ms: int
    windows: int
    cues: int
    usage: Usage


def analyse(info: MediaInfo, workdir: Path, vad_method: str, options: WindowOptions) -> Analysis:
    raw = workdir / "audio.pcm"
    media.extract_pcm(info, raw)
    pcm = media.load_pcm(raw)
    rate = media.ANALYSIS_RATE
    speech = vad.detect_speech(pcm, rate, method=vad_method)
    duration_ms = max(info.duration_ms, len(pcm) * 1000 // rate)
    windows = plan_windows(speech, duration_ms, vad.frame_levels(pcm, rate), vad.FRAME_MS, options)
    log.info("%s: %d ms of speech in %d windows", info.path.name, sum(s.duration_ms for s in speech), len(windows))
    return Analysis(info, pcm, duration_ms, tuple(speech), tuple(windows))


def window_wav(pcm: np.ndarray, window: Window) -> bytes:
    per_ms = media.ANALYSIS_RATE // 1000
    return media.wav_bytes(pcm[window.start_ms * per_ms:window.end_ms * per_ms], media.ANALYSIS_RATE)


def answer_shapers(backend: str, config: BackendConfig, request: TranslateRequest) -> dict[str, object]:
    """Everything besides the audio that changes a window's answer: the cache key's other half."""
    return {"backend": backend, "model": config.model, "target": request.target.code,
            "source": request.source.code if request.source else None, "audio": request.want_audio,
            "voice": request.voice if request.want_audio else None}


def translate_windows(backend: Backend, analysis: Analysis, request: TranslateRequest, *,
                      fetch: FetchOptions = FetchOptions(), shapers: Mapping[str, object] | None = None,
                      on_done: Callable[[Translation], None] | None = None,
                      keep: Callable[[Translation], Translation] | None = None) -> list[Translation]:
    """Translate every window (concurrently, cached, retried); results in window order (see fetch_all)."""
    plan = FetchPlan(analysis.windows, lambda w: window_wav(analysis.pcm, w), request, shapers or {})
    translations, stats = fetch_all(backend, plan, fetch, on_done, keep)
    log.info("%d windows: %d from the cache, %d requested", len(translations), stats.cached, stats.fetched)
    return translations


def total_usage(translations: Sequence[Translation]) -> Usage:
    usages = [t.result.usage for t in translations if t.result.usage is not None]
    return Usage(*(sum(getattr(u, f) for u in usages) for f in ("prompt_tokens", "completion_tokens", "total_tokens")))


def run_subtitles(job: SubtitleJob, on_done: Callable[[Translation], None] | None = None) -> SubtitleReport:
    info = media.probe(job.input)
    outputs = [output_path(job.input, job.out_dir, job.target.code, fmt) for fmt in job.formats]
    prepare_dir(outputs[0].parent)
    guard_input(outputs, job.input)
    backend = make_backend(job.backend, job.backend_config)
    with tempfile.TemporaryDirectory(prefix="dubber-") as tmp:
        analysis = analyse(info, Path(tmp), job.vad_method, job.windows)
        request = TranslateRequest(target=job.target, source=job.source)
        translations = translate_windows(backend, analysis, request, fetch=job.fetch, on_done=on_done,
                                         shapers=answer_shapers(job.backend, job.backend_config, request))
    cues = build_cues(translations, job.target.code, analysis.duration_ms, job.cues)
    for fmt, path in zip(job.formats, outputs):
        write_text_atomic(path, WRITERS[fmt](cues))
    return SubtitleReport(tuple(outputs), analysis.duration_ms, sum(s.duration_ms for s in analysis.speech),
                          len(analysis.windows), len(cues), total_usage(translations))
