"""`dubber dub`: probe → windows → translated text and speech → fitted timeline → rendered dub → one
ffmpeg pass that loudness-matches, ducks or replaces, mixes and muxes → files renamed into place."""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from dubber.backends import TranslateRequest
from dubber.dub.clips import ClipSpool
from dubber.dub.duck import DuckOptions, duck_spans
from dubber.dub.render import DUB_RATE, render_dub, write_envelope
from dubber.dub.report import DubFacts, DubSummary, RateLimits, build_report, to_json
from dubber.dub.timeline import FitOptions, Placement, dubbed_speech, fit_timeline
from dubber.errors import OptionError
from dubber.jobs.common import (Analysis, TranslateJob, analyse, bilingual_sources, check_input_mode, total_usage,
                                translate_windows)
from dubber.jobs.outputs import OutputSet, guard_input, output_path, prepare_dir
from dubber.media.audio import raw_input_args
from dubber.media.carry import CarryPlan, carry_plan
from dubber.media.loudness import loudnorm_filter, measure_loudness
from dubber.media.mux import (WEBM_VIDEO, MuxSpec, OutputKind, Track, build_mux_args, default_suffix, mix_rate,
                              output_kind)
from dubber.media.probe import probe
from dubber.media.stretch import stretch_method
from dubber.media.tool import run_ffmpeg
from dubber.models import Loudness, MediaInfo, Translation, Usage
from dubber.subtitles.cues import build_cue_track
from dubber.subtitles.writers import WRITERS
from dubber.translate.fetch import FetchStats

log = logging.getLogger(__name__)

MIXES = ("duck", "replace")
TIMINGS = ("original", "dub")  # what the subtitles are timed to: the original speech, or the dub's


@dataclass(frozen=True, kw_only=True)
class DubJob(TranslateJob):
    output: Path | None = None  # None: <stem>.<lang>.<ext> beside the input
    voice: str = "Cherry"
    mix: str = "duck"
    keep_original: bool = True
    fit: FitOptions = field(default_factory=FitOptions)
    duck: DuckOptions = field(default_factory=DuckOptions)
    timing: str = "original"

    def __post_init__(self) -> None:
        if self.mix not in MIXES:
            raise OptionError(f"unknown mix {self.mix!r} (known: {', '.join(MIXES)})")
        if self.timing not in TIMINGS:
            raise OptionError(f"unknown timing {self.timing!r} (known: {', '.join(TIMINGS)})")


@dataclass(frozen=True)
class DubOutputs:
    """The dubbed media, its sidecar subtitles (named after it, so players find them) and the report."""

    media: Path
    srt: Path
    vtt: Path
    report: Path

    @classmethod
    def beside(cls, media_path: Path) -> "DubOutputs":
        return cls(media_path, media_path.with_suffix(".srt"), media_path.with_suffix(".vtt"),
                   media_path.with_suffix(".dub.json"))

    def all(self) -> tuple[Path, ...]:
        return self.media, self.srt, self.vtt, self.report


@dataclass(frozen=True)
class DubResult:
    outputs: DubOutputs
    summary: DubSummary
    usage: Usage
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Rendered:
    dub_pcm: Path
    envelope: Path | None
    original: Loudness | None
    dub: Loudness | None


def plan_outputs(job: DubJob, info: MediaInfo) -> DubOutputs:
    suffix = default_suffix(job.input, info.has_video)
    return DubOutputs.beside(job.output or output_path(job.input, None, job.target.code, suffix))


def _check_video(kind: OutputKind, info: MediaInfo, path: Path) -> None:
    """WebM holds only VP8/VP9/AV1, and the video is never re-encoded: refuse before anything is paid for."""
    if kind.muxer != "webm" or not info.has_video:
        return
    bad = sorted(set(info.video_codecs) - WEBM_VIDEO)
    if bad:
        raise OptionError(f"{path.name}: WebM cannot hold {', '.join(bad)} video, which dubber copies "
                          "without re-encoding; choose .mkv or the input's own kind")


def _translate(job: DubJob, analysis: Analysis, spool: ClipSpool,
               on_done: Callable[[Translation], None] | None) -> tuple[list[Translation], FetchStats]:
    """Translate every window with speech; each answer's audio goes to the spool as it arrives."""
    def spool_it(translation: Translation) -> None:
        spool.add(translation)
        if on_done is not None:
            on_done(translation)

    request = TranslateRequest(target=job.target, source=job.source, want_audio=True, voice=job.voice,
                               glossary=job.glossary)
    # Each answer's speech is spooled to disk as it arrives; only its text is held on to.
    return translate_windows(job.backend, analysis, request, fetch=job.fetch, on_done=spool_it,
                             keep=lambda t: Translation(t.window, replace(t.result, audio_pcm=b"")))


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


def _layout(info: MediaInfo) -> str:
    """The mix's channel layout: stereo for an original with two channels or more, else mono."""
    return "stereo" if info.channels >= 2 else "mono"


def _render(job: DubJob, analysis: Analysis, spool: ClipSpool, placements: Sequence[Placement], work: Path,
            stretch: str) -> _Rendered:
    dub_pcm, total_ms = work / "dub.pcm", analysis.duration_ms
    render_dub(placements, spool, dub_pcm, total_ms, job.fit.fade_ms, stretch)
    envelope = None
    if job.mix == "duck":
        envelope = work / "duck.f32"
        # one extra second of unity gain: the envelope must outlast the original, which it multiplies
        write_envelope(duck_spans(placements, job.duck), total_ms + 1000, envelope, job.duck)
    if not placements:
        return _Rendered(dub_pcm, envelope, None, None)
    stereo = _layout(analysis.info) == "stereo"
    dub = measure_loudness(raw_input_args(dub_pcm, DUB_RATE), "pan=stereo|c0=c0|c1=c0" if stereo else "")
    return _Rendered(dub_pcm, envelope, analysis.loudness, dub)


def _tracks(job: DubJob, info: MediaInfo) -> tuple[Track, Track | None, Track]:
    dub = Track(job.target.iso639_2, f"{job.target.name} dub")
    subtitle = Track(job.target.iso639_2, job.target.name)
    if not job.keep_original:
        return dub, None, subtitle
    if job.source is not None:
        return dub, Track(job.source.iso639_2, f"Original ({job.source.name})"), subtitle
    return dub, Track(info.audio_language or "und", "Original"), subtitle


def _notes(kind: OutputKind, outputs: DubOutputs, has_cues: bool, carry: CarryPlan) -> list[str]:
    suffix = outputs.media.suffix
    notes = [dropped.note(suffix) for dropped in carry.dropped]
    notes += [f"input stream {c.stream.index} ({c.stream.type}, {c.stream.codec}) was converted to {c.codec}: "
              f"a {suffix} cannot hold {c.stream.codec}" for c in carry.audio + carry.subtitles if c.codec]
    if kind.subtitle_codec is None:
        notes.append("subtitles are in the sidecar files only: this kind of file cannot hold them")
    if not has_cues:
        notes.append("no speech found: the dub track is silent and the subtitles are empty")
    return notes


def _mux(job: DubJob, info: MediaInfo, kind: OutputKind, outputs: DubOutputs, rendered: _Rendered,
         subtitles: Path | None, dest: Path, carry: CarryPlan) -> None:
    stereo = _layout(info) == "stereo"
    dub, original, subtitle = _tracks(job, info)
    target = rendered.original.integrated if rendered.original is not None else None
    spec = MuxSpec(input=info.path, audio_index=info.audio_index, original_codec=info.audio_codec,
                   dub_pcm=rendered.dub_pcm, dub_rate=DUB_RATE, envelope=rendered.envelope,
                   subtitles=subtitles if kind.subtitle_codec else None, output=outputs.media, kind=kind,
                   rate=mix_rate(kind, info.sample_rate), stereo=stereo, dub=dub, original=original,
                   subtitle=subtitle, loudnorm=loudnorm_filter(rendered.dub, target), carry=carry)
    run_ffmpeg(build_mux_args(replace(spec, output=dest)), what=f"writing {outputs.media.name}")


def _warn_overflow(placements: Sequence[Placement], max_speed: float) -> None:
    for p in placements:
        if p.overflow_ms > 0:
            log.warning("window %d: %d ms of dubbed speech did not fit even at %.2fx and was cut",
                        p.index, p.overflow_ms, max_speed)


def run_dub(job: DubJob, on_done: Callable[[Translation], None] | None = None) -> DubResult:
    info = probe(job.input)
    outputs = plan_outputs(job, info)
    kind = output_kind(outputs.media)
    prepare_dir(outputs.media.parent)
    guard_input(list(outputs.all()), job.input)
    _check_video(kind, info, outputs.media)
    carry = carry_plan(info.streams, kind.holds(), job.keep_original)  # every stream it can hold
    check_input_mode(info, job.backend.config.input_mode)
    # Every file of the run is written under a temporary name and put in place together at the end.
    with OutputSet() as files, tempfile.TemporaryDirectory(prefix="dubber-") as tmp:
        work = Path(tmp)
        # the original's loudness is measured in the one decode, as the mix will hear it
        analysis = analyse(info, work, job.vad_method, job.windows,
                           measure_prefilter=f"aformat=channel_layouts={_layout(info)}")
        spool = ClipSpool(work / "clips", find_speech=job.timing == "dub",  # the dub splits on the cues' phrases
                          rules=job.cues.at_frame_rate(info.frame_rate).rules(job.target.code))
        translations, fetched = _translate(job, analysis, spool, on_done)
        stretch = stretch_method()
        placements = fit_timeline([c for s in spool.clips.values() for c in s.parts], analysis.duration_ms, job.fit)
        _warn_overflow(placements, job.fit.max_speed)
        timed = _timed_to_dub(translations, placements, spool) if job.timing == "dub" else translations
        sources = bilingual_sources(job, analysis)
        track = build_cue_track(timed, job.target.code, analysis.duration_ms, job.cues.at_frame_rate(info.frame_rate),
                                sources.texts if sources else None, sources.code if sources else None)
        cues = list(track.cues)
        texts = {fmt: WRITERS[fmt](cues, job.target.code) for fmt in ("srt", "vtt")}
        rendered = _render(job, analysis, spool, placements, work, stretch)
        subtitles = work / f"subtitles.{kind.subtitle_sidecar}"
        subtitles.write_text(texts[kind.subtitle_sidecar], encoding="utf-8")
        _mux(job, info, kind, outputs, rendered, subtitles if cues else None, files.part(outputs.media), carry)
        notes = _notes(kind, outputs, bool(cues), carry)
        facts = DubFacts(job.input, outputs.media, (outputs.srt, outputs.vtt), job.target.code, job.voice, job.mix,
                         job.fit.max_speed, analysis.duration_ms, stretch, rendered.original, rendered.dub,
                         tuple(notes), RateLimits(job.fetch.jobs, fetched.lowest_in_flight, fetched.rate_limit_cuts),
                         track.overlong)
        files.write_text(outputs.srt, texts["srt"])
        files.write_text(outputs.vtt, texts["vtt"])
        files.write_text(outputs.report, to_json(build_report(facts, translations, placements)))
        files.commit()
    summary = DubSummary.of(len(analysis.windows), placements)
    paid = translations + list(sources.transcripts if sources else ())
    return DubResult(outputs, summary, total_usage(paid), tuple(notes))
