"""One language of a dub, over the run's one analysis: its translation with speech → its clips, spooled in
a folder of its own as they arrive → its fitted timeline → its cues (in its own language's rules); and,
while the answers arrive, its mix: each part of the timeline that nothing still to come can change is
rendered, with the original's duck envelope under it, and fed to an ffmpeg that mixes it over the
original and encodes it (``dubber.dub.feed``), so the work left after the last answer is the track's
tail. ``run_dub`` runs this for each target in turn, then copies every mix into one file."""
from __future__ import annotations

import logging
import shutil
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

from dubber.backends import TranslateRequest
from dubber.dub.clips import ClipSpool
from dubber.dub.feed import DubFeed, Settler
from dubber.dub.render import DUB_RATE, TrackRender
from dubber.dub.timeline import Placement, dubbed_speech
from dubber.events import Events
from dubber.jobs.common import Analysis, EarlyStart, Sources, translate_windows
from dubber.languages import Lang
from dubber.media.audio import ANALYSIS_RATE
from dubber.media.loudness import TrackMeter
from dubber.media.mux import EncodeSpec, OutputKind, build_encode_args, mix_muxer, mix_rate
from dubber.media.tool import FfmpegFeed
from dubber.models import Loudness, MediaInfo, Translation
from dubber.subtitles.cues import CueTrack, build_cue_track
from dubber.translate.fetch import FetchStats

if TYPE_CHECKING:
    from dubber.jobs.dub import DubJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    """A language's encoded mix, with the loudness figures of the original and of its dub track (None: too
    quiet to measure, e.g. no dubbed speech)."""

    encoded: Path
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


def dub_request(job: DubJob, lang: Lang) -> TranslateRequest:
    """What a language's windows ask for: its text and speech."""
    return TranslateRequest(target=lang, source=job.source, want_audio=True, voice=job.voice, glossary=job.glossary)


def _translate(job: DubJob, lang: Lang, analysis: Analysis, spool: ClipSpool, arrived: Callable[[Translation], None],
               events: Events, early: EarlyStart | None,
               voices: Mapping[int, str]) -> tuple[list[Translation], FetchStats]:
    """Translate every window with speech; each answer's audio goes to the spool as it arrives, and on to
    the mix (``arrived``)."""
    # Each answer's speech is spooled to disk as it arrives; only its text is held on to.
    return translate_windows(job.backend, analysis, dub_request(job, lang), fetch=job.fetch, on_done=arrived,
                             keep=lambda t: Translation(t.window, replace(t.result, audio_pcm=b"")), events=events,
                             early=early, voices=voices)


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


def encode_spec(analysis: Analysis, kind: OutputKind, folder: Path) -> EncodeSpec:
    info = analysis.info
    return EncodeSpec(input=info.path, audio_index=info.audio_index, feed_rate=DUB_RATE, kind=kind,
                      rate=mix_rate(kind, info.sample_rate), stereo=layout(info) == "stereo",
                      output=folder / f"mix.{mix_muxer(kind)}")


class MixEncoder:
    """A language's track as it is rendered (``render``: its clips at the original's loudness, over the
    original ducked or replaced) and the ffmpeg that mixes it over the original and encodes it, fed through
    ``feed``; the dub track's loudness is measured as the mix hears it. Leaving the ``with`` block on an
    error kills the encoder; ``finish`` waits for it."""

    def __init__(self, job: DubJob, lang: Lang, spool: ClipSpool, spec: EncodeSpec, stretch: str,
                 original: Future) -> None:
        def target() -> float | None:  # asked for at the first clip: the original may still be measured
            loudness = original.result()
            return loudness.integrated if loudness is not None else None

        self.spec, self.original = spec, original
        self.render = TrackRender(spool, job.fit.fade_ms, stretch, job.duck if job.mix == "duck" else None, target)
        self._meter = TrackMeter(spec.feed_rate, 2 if spec.stereo else 1)
        self._encoder = FfmpegFeed(build_encode_args(spec), what=f"encoding the {lang.name} dub")

    def feed(self, frames: bytes) -> None:
        """Hand the encoder (dub, gain) float32 pairs: the dub is every other sample."""
        self._meter.add(np.frombuffer(frames, dtype="<f4")[0::2])
        self._encoder.write(frames)

    def finish(self) -> Rendered:
        self._encoder.finish()
        return Rendered(self.spec.output, self.original.result(), self._meter.result())

    def abort(self) -> None:
        """Kill the encoder (a run that failed): a write blocked in it ends too."""
        self._encoder.abort()

    def __enter__(self) -> "MixEncoder":
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is not None:
            self.abort()
        self._encoder.__exit__(kind, *rest)


def track_end_ms(analysis: Analysis) -> int:
    """Where a dub track is rendered to: the original audio's end (a video's picture may outlast it), and
    one second more: the gain must outlast the original it multiplies; the encoder ends with the original,
    and drops the rest."""
    return len(analysis.pcm) * 1000 // ANALYSIS_RATE + 1000


def _mix_while_translating(job: DubJob, lang: Lang, analysis: Analysis, mix: MixEncoder, spool: ClipSpool,
                           events: Events, early: EarlyStart | None,
                           voices: Mapping[int, str]) -> tuple[list[Translation], FetchStats, list[Placement]]:
    """Translate, feeding the encoder each settled part of the track as the answers come in; then the rest.
    The translations, how the fetching went, and the whole plan."""
    settler = Settler(analysis.windows, analysis.duration_ms, job.fit)
    feed = DubFeed(mix.render, mix.feed)
    try:
        def arrived(translation: Translation) -> None:
            spooled = spool.add(translation)
            feed.push(*settler.arrive(translation.window.index, spooled.parts if spooled else ()))

        translations, fetched = _translate(job, lang, analysis, spool, arrived, events, early, voices)
        placements = settler.plan()
        # what is left: the clips after the last gap in the answers, and the encoder catching up
        events.stage("render", total=len(placements), unit="clips", detail=lang.code)
        feed.close(track_end_ms(analysis))
        events.advance(len(placements))
    except BaseException:
        mix.abort()  # first: the feed's thread may be blocked writing to it
        feed.stop()
        raise
    return translations, fetched, placements


def warn_overflow(label: str, placements: Sequence[Placement], max_speed: float) -> None:
    for p in placements:
        if p.overflow_ms > 0:
            log.warning("%swindow %d: %d ms of dubbed speech did not fit even at %.2fx and was cut",
                        label, p.index, p.overflow_ms, max_speed)


def dub_language(job: DubJob, lang: Lang, analysis: Analysis, original: Future, sources: Sources | None,
                 folder: Path, stretch: str, kind: OutputKind, events: Events,
                 early: EarlyStart | None = None, voices: Mapping[int, str] | None = None) -> LanguagePass:
    """Translate, fit, cue and mix ``lang``'s dub in ``folder`` (see the module docstring). ``original`` is
    the original's loudness (a ``Loudness | None`` future: it is measured while the first windows are out).
    ``voices``: each speaker's voice (``--speakers``)."""
    folder.mkdir(parents=True, exist_ok=True)
    cue_options = job.cues.at_frame_rate(analysis.info.frame_rate)
    spec = encode_spec(analysis, kind, folder)
    spool = ClipSpool(folder / "clips", find_speech=job.timing == "dub", channels=2 if spec.stereo else 1)
    with MixEncoder(job, lang, spool, spec, stretch, original) as mix:
        translations, fetched, placements = _mix_while_translating(job, lang, analysis, mix, spool, events, early,
                                                                   voices or {})
        rendered = mix.finish()
    warn_overflow(f"{lang.code}: " if job.extra_targets else "", placements, job.fit.max_speed)
    timed = _timed_to_dub(translations, placements, spool) if job.timing == "dub" else translations
    track = build_cue_track(timed, lang.code, analysis.duration_ms, cue_options,
                            sources.texts if sources else None, sources.code if sources else None)
    shutil.rmtree(spool.folder, ignore_errors=True)  # its speech is in the mix now: free the disk
    return LanguagePass(lang, tuple(translations), fetched, tuple(placements), track, rendered, folder)
