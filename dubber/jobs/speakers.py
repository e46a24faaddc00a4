"""`dubber speakers`: probe → decode the audio → find who speaks when → ``<stem>.rttm``. It needs no key and
sends nothing."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from dubber.events import NO_EVENTS, Events
from dubber.jobs.common import find_turns
from dubber.jobs.outputs import OutputSet, guard_input, prepare_dir
from dubber.media.audio import ANALYSIS_RATE, PcmFile, extract_pcm
from dubber.media.capability import choose, decode_needs
from dubber.media.probe import probe
from dubber.models import Speaker, Turn
from dubber.speakers import SpeakerOptions
from dubber.speakers.cast import describe
from dubber.speakers.turns import to_rttm


@dataclass(frozen=True, kw_only=True)
class SpeakersJob:
    input: Path
    options: SpeakerOptions = SpeakerOptions()
    out_dir: Path | None = None  # None: beside the input


@dataclass(frozen=True)
class SpeakersReport:
    output: Path
    duration_ms: int
    turns: tuple[Turn, ...]
    speakers: tuple[Speaker, ...]


def rttm_path(job: SpeakersJob) -> Path:
    return (job.out_dir if job.out_dir is not None else job.input.parent) / f"{job.input.stem}.rttm"


def run_speakers(job: SpeakersJob, events: Events = NO_EVENTS) -> SpeakersReport:
    info = probe(job.input)
    choose(decode_needs("audio"), "find speakers")
    output = rttm_path(job)
    prepare_dir(output.parent)
    guard_input([output], job.input)
    with tempfile.TemporaryDirectory(prefix="dubber-") as tmp:
        raw = Path(tmp) / "audio.pcm"
        events.stage("extract", total=info.duration_ms / 1000, unit="s")
        extract_pcm(info, raw)
        events.advance(info.duration_ms / 1000)
        pcm = PcmFile(raw)
        turns = tuple(find_turns(pcm, job.options, events))
        duration_ms = max(info.duration_ms, len(pcm) * 1000 // ANALYSIS_RATE)
    with OutputSet() as files:
        files.write_text(output, to_rttm(turns, job.input.stem))
        files.commit()
    return SpeakersReport(output, duration_ms, turns, describe(turns))
