"""`dubber transcribe`: probe → windows → each window's words as spoken → cues in the source language →
SRT / WebVTT files named after that language (the one asked for, else the one the service detected)."""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dubber.events import NO_EVENTS, Events
from dubber.jobs.common import (EarlyStart, JobBase, analyse, detected_language, total_usage, transcribe_request,
                                transcribe_windows)
from dubber.jobs.outputs import OutputSet, guard_input, output_path, prepare_dir
from dubber.media.capability import choose, decode_needs
from dubber.media.probe import probe
from dubber.speakers.cast import describe
from dubber.models import Speaker, Usage
from dubber.subtitles.cues import build_cues
from dubber.subtitles.writers import WRITERS

log = logging.getLogger(__name__)

UNDETERMINED = "und"  # ISO 639's code for a language nobody could tell: the files' name when none was found


@dataclass(frozen=True, kw_only=True)
class TranscribeJob(JobBase):
    formats: tuple[str, ...] = ("srt", "vtt")
    out_dir: Path | None = None
    itn: bool = True  # numbers and dates written as a reader expects


@dataclass(frozen=True)
class TranscribeReport:
    outputs: tuple[Path, ...]
    language: str | None  # as asked (--lang), else as detected; None: nobody could tell
    detected: bool  # whether ``language`` came from the service
    windows: int
    cues: int
    usage: Usage
    speakers: tuple[Speaker, ...] = ()  # with --speakers: each one's talk time


def run_transcribe(job: TranscribeJob, events: Events = NO_EVENTS) -> TranscribeReport:
    info = probe(job.input)
    choose(decode_needs(job.backend.config.input_mode), "transcribe")  # before anything is paid for
    folder = job.out_dir if job.out_dir is not None else job.input.parent
    prepare_dir(folder)
    with tempfile.TemporaryDirectory(prefix="dubber-") as tmp, \
            EarlyStart(job.backend, transcribe_request(job.source, job.itn), job.fetch) as early:
        analysis = analyse(info, Path(tmp), job.vad_method, job.windows, events=events, early=early,
                           speakers=job.speakers)
        transcripts = transcribe_windows(job.backend, analysis, job.source, job.fetch, job.itn, events, early)
    language = job.source.code if job.source else detected_language(transcripts)
    if job.source is None:
        log.info("detected language: %s", language or "none")
    code = language or UNDETERMINED
    outputs = [output_path(job.input, job.out_dir, code, fmt) for fmt in job.formats]
    guard_input(outputs, job.input)
    cues = build_cues(transcripts, code, analysis.duration_ms, job.cues.at_frame_rate(info.frame_rate))
    events.stage("write", total=len(outputs), unit="files")
    with OutputSet() as files:
        for fmt, path in zip(job.formats, outputs):
            files.write_text(path, WRITERS[fmt](cues, code))
        files.commit()
    return TranscribeReport(tuple(outputs), language, job.source is None, len(analysis.windows), len(cues),
                            total_usage(transcripts), describe(analysis.turns))
