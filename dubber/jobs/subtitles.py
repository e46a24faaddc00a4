"""`dubber subtitles`: probe → windows → translated text (and, bilingual, the source line) → cues →
SRT / WebVTT files."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from dubber.backends import TranslateRequest
from dubber.jobs.common import (TranslateJob, analyse, bilingual_sources, check_input_mode, total_usage,
                                translate_windows)
from dubber.jobs.outputs import OutputSet, guard_input, output_path, prepare_dir
from dubber.media.probe import probe
from dubber.models import Translation, Usage
from dubber.subtitles.cues import build_cues
from dubber.subtitles.writers import WRITERS


@dataclass(frozen=True, kw_only=True)
class SubtitleJob(TranslateJob):
    formats: tuple[str, ...] = ("srt", "vtt")
    out_dir: Path | None = None


@dataclass(frozen=True)
class SubtitleReport:
    outputs: tuple[Path, ...]
    duration_ms: int
    speech_ms: int
    windows: int
    cues: int
    usage: Usage


def run_subtitles(job: SubtitleJob, on_done: Callable[[Translation], None] | None = None) -> SubtitleReport:
    info = probe(job.input)
    check_input_mode(info, job.backend.config.input_mode)
    outputs = [output_path(job.input, job.out_dir, job.target.code, fmt) for fmt in job.formats]
    prepare_dir(outputs[0].parent)
    guard_input(outputs, job.input)
    with tempfile.TemporaryDirectory(prefix="dubber-") as tmp:
        analysis = analyse(info, Path(tmp), job.vad_method, job.windows)
        request = TranslateRequest(target=job.target, source=job.source, glossary=job.glossary)
        translations, _ = translate_windows(job.backend, analysis, request, fetch=job.fetch, on_done=on_done)
        sources = bilingual_sources(job, analysis)
    cues = build_cues(translations, job.target.code, analysis.duration_ms, job.cues.at_frame_rate(info.frame_rate),
                      sources.texts if sources else None, sources.code if sources else None)
    with OutputSet() as files:
        for fmt, path in zip(job.formats, outputs):
            files.write_text(path, WRITERS[fmt](cues, job.target.code))
        files.commit()
    paid = translations + list(sources.transcripts if sources else ())
    return SubtitleReport(tuple(outputs), analysis.duration_ms, sum(s.duration_ms for s in analysis.speech),
                          len(analysis.windows), len(cues), total_usage(paid))
