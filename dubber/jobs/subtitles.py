"""`dubber subtitles`: probe → windows → translated text (and, bilingual, the source line) → cues →
subtitle files, in one or several languages.

With several target languages the input is probed, decoded and cut into windows once; the languages are
then translated one after another, each with ``--jobs`` requests in flight (so the service never sees
more than ``--jobs`` at once), the source transcript (``--bilingual``) once for all of them, and every
language's files are written as one set.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dubber.backends import TranslateRequest
from dubber.events import NO_EVENTS, Events
from dubber.jobs.common import (TranslateJob, analyse, bilingual_sources, check_input_mode, early_start,
                                total_usage, translate_windows)
from dubber.jobs.outputs import OutputSet, guard_input, output_path, prepare_dir
from dubber.media.capability import choose, decode_needs
from dubber.media.probe import probe
from dubber.models import Speaker, Translation, Usage
from dubber.speakers.cast import describe
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
    cues: int  # over every language
    usage: Usage
    cues_by_language: dict[str, int] = field(default_factory=dict)
    speakers: tuple[Speaker, ...] = ()  # with --speakers: each one's talk time


def run_subtitles(job: SubtitleJob, events: Events = NO_EVENTS) -> SubtitleReport:
    info = probe(job.input)
    check_input_mode(info, job.backend.config.input_mode)
    choose(decode_needs(job.backend.config.input_mode), "make subtitles")  # before anything is paid for
    outputs = {lang.code: [output_path(job.input, job.out_dir, lang.code, fmt) for fmt in job.formats]
               for lang in job.targets}
    prepare_dir(job.out_dir if job.out_dir is not None else job.input.parent)
    guard_input([path for paths in outputs.values() for path in paths], job.input)
    rules = job.cues.at_frame_rate(info.frame_rate)
    counts: dict[str, int] = {}
    paid: list[Translation] = []
    requests = [TranslateRequest(target=lang, source=job.source, glossary=job.glossary) for lang in job.targets]
    with OutputSet() as files, tempfile.TemporaryDirectory(prefix="dubber-") as tmp, \
            early_start(job, requests[0]) as early:
        analysis = analyse(info, Path(tmp), job.vad_method, job.windows, events=events, early=early,
                           speakers=job.speakers)
        sources = bilingual_sources(job, analysis, events, early)
        for lang, request in zip(job.targets, requests):
            translations, _ = translate_windows(job.backend, analysis, request, fetch=job.fetch, events=events,
                                                early=early)
            cues = build_cues(translations, lang.code, analysis.duration_ms, rules,
                              sources.texts if sources else None, sources.code if sources else None)
            for fmt, path in zip(job.formats, outputs[lang.code]):
                files.write_text(path, WRITERS[fmt](cues, lang.code))
            counts[lang.code], paid = len(cues), paid + translations
        events.stage("write", total=sum(map(len, outputs.values())), unit="files")
        files.commit()
    paid += list(sources.transcripts if sources else ())
    return SubtitleReport(tuple(p for paths in outputs.values() for p in paths), analysis.duration_ms,
                          sum(s.duration_ms for s in analysis.speech), len(analysis.windows), sum(counts.values()),
                          total_usage(paid), counts, describe(analysis.turns))
