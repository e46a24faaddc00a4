"""One language of a dub, over the run's one analysis: its translation with speech → its clips, spooled in
a folder of its own as they arrive → its fitted timeline → its cues (in its own language's rules) → its
dub track rendered, its loudness measured, and the original's duck envelope under it (which follows its
own placements). ``run_dub`` runs this for each target in turn, then mixes them all in one pass."""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from dubber.backends import TranslateRequest
from dubber.dub.clips import ClipSpool
from dubber.dub.duck import duck_spans
from dubber.dub.render import DUB_RATE, render_dub, write_envelope
from dubber.dub.timeline import Placement, dubbed_speech, fit_timeline
from dubber.events import Events
from dubber.jobs.common import Analysis, Sources, translate_windows
from dubber.languages import Lang
from dubber.media.audio import raw_input_args
from dubber.media.loudness import measure_loudness
from dubber.models import Loudness, MediaInfo, Translation
from dubber.subtitles.cues import CueTrack, build_cue_track
from dubber.translate.fetch import FetchStats

if TYPE_CHECKING:
    from dubber.jobs.dub import DubJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    """A language's dub track and the original's duck envelope under it (None: replace), with the loudness
    figures the mix matches them by (None when there is no dubbed speech)."""

    dub_pcm: Path
    envelope: Path | None
    original: Loudness | None
    dub: Loudness | None


@dataclass(frozen=True)
class LanguagePass:
    """What one language's pass made: its translations (text only: the speech is in the rendered track), how
    the fetching went, its fitted parts, its cues and its rendered track, all in ``folder``."""

    lang: Lang
    translations: tuple[Translation, ...]
    fetched: FetchStats
    placements: tuple[Placement, ...]
    cues: CueTrack
    rendered: Rendered
    folder: Path


def layout(info: MediaInfo) -> str:
    """The mix's channel layout: stereo for an original with two channels or more, else mono."""
    return "stereo" if info.channels >= 2 else "mono"


def _translate(job: DubJob, lang: Lang, analysis: Analysis, spool: ClipSpool,
               events: Events) -> tuple[list[Translation], FetchStats]:
    """Translate every window with speech; each answer's audio goes to the spool as it arrives."""
    request = TranslateRequest(target=lang, source=job.source, want_audio=True, voice=job.voice,
                               glossary=job.glossary)
    # Each answer's speech is spooled to disk as it arrives; only its text is held on to.
    return translate_windows(job.backend, analysis, request, fetch=job.fetch, on_done=spool.add,
                             keep=lambda t: Translation(t.window, replace(t.result, audio_pcm=b"")), events=events)


def _timed_to_dub(translations: Sequence[Translation], placements: Sequence[Placement],
                  spool: ClipSpool) -> list[Translation]:
    """The translations with each dubbed window's speech moved to where its dub speaks (its parts in turn),
    so the cues follow the dubbed voice (``--timing dub``). Windows with text but no dub keep the original's
    timing."""
    by_index: dict[int, list[Placement]] = {}
    for p in placements:
        by_index.setdefault(p.index, []).append(p)
    timed = []
    for t in translations:
        parts, spooled = by_index.get(t.window.index), spool.clips.get(t.window.index)
        if parts and spooled is not None:  # the spool found the clip's speech on arrival
            speech = tuple(s for p in parts for s in dubbed_speech(p, spooled.speech))
            t = Translation(replace(t.window, speech=speech), t.result)
        timed.append(t)
    return timed


def _render(job: DubJob, analysis: Analysis, spool: ClipSpool, placements: Sequence[Placement], folder: Path,
            stretch: str, progress: Callable[[float], None]) -> Rendered:
    dub_pcm, total_ms = folder / "dub.pcm", analysis.duration_ms
    render_dub(placements, spool, dub_pcm, total_ms, job.fit.fade_ms, stretch, progress)
    envelope = None
    if job.mix == "duck":
        envelope = folder / "duck.f32"
        # one extra second of unity gain: the envelope must outlast the original, which it multiplies
        write_envelope(duck_spans(placements, job.duck), total_ms + 1000, envelope, job.duck)
    if not placements:
        return Rendered(dub_pcm, envelope, None, None)
    stereo = layout(analysis.info) == "stereo"
    dub = measure_loudness(raw_input_args(dub_pcm, DUB_RATE), "pan=stereo|c0=c0|c1=c0" if stereo else "")
    return Rendered(dub_pcm, envelope, analysis.loudness, dub)


def _warn_overflow(label: str, placements: Sequence[Placement], max_speed: float) -> None:
    for p in placements:
        if p.overflow_ms > 0:
            log.warning("%swindow %d: %d ms of dubbed speech did not fit even at %.2fx and was cut",
                        label, p.index, p.overflow_ms, max_speed)


def dub_language(job: DubJob, lang: Lang, analysis: Analysis, sources: Sources | None, folder: Path,
                 stretch: str, events: Events) -> LanguagePass:
    """Translate, fit, cue and render ``lang``'s dub in ``folder`` (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    cue_options = job.cues.at_frame_rate(analysis.info.frame_rate)
    spool = ClipSpool(folder / "clips", find_speech=job.timing == "dub",  # the dub splits on the cues' phrases
                      rules=cue_options.rules(lang.code))
    translations, fetched = _translate(job, lang, analysis, spool, events)
    placements = fit_timeline([c for s in spool.clips.values() for c in s.parts], analysis.duration_ms, job.fit)
    _warn_overflow(f"{lang.code}: " if job.extra_targets else "", placements, job.fit.max_speed)
    timed = _timed_to_dub(translations, placements, spool) if job.timing == "dub" else translations
    track = build_cue_track(timed, lang.code, analysis.duration_ms, cue_options,
                            sources.texts if sources else None, sources.code if sources else None)
    events.stage("render", total=len(placements), unit="clips", detail=lang.code)
    rendered = _render(job, analysis, spool, placements, folder, stretch, events.advance)
    shutil.rmtree(spool.folder, ignore_errors=True)  # its speech is in the dub track now: free the disk
    return LanguagePass(lang, tuple(translations), fetched, tuple(placements), track, rendered, folder)
