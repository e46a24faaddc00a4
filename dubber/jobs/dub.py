"""`dubber dub`: probe → windows → per target language: translated text and speech → fitted timeline, the
mix (each clip at the original's loudness, over the original ducked or replaced) rendered and encoded
while the answers arrive (``dubber.jobs.dub_language``) → one ffmpeg pass that copies every language's mix
into the file with the input's streams → files renamed into place.

With several languages (``--to fr,de``) the input is probed, decoded (its loudness measured in the same
decode) and cut into windows once, the source transcribed once (``--bilingual``), and each language is
translated, fitted and rendered in turn, each with ``--jobs`` requests in flight. One file holds them all:
a dub track and a subtitle track per language, in ``--to`` order, the first the default. It is named
``<stem>.fr+de.<ext>``, each language's sidecars and report ``<media stem>.<lang>.srt`` (players find
subtitles named after the media with a language suffix). One language keeps its names:
``<stem>.<lang>.<ext>`` and sidecars named after the media alone.
"""
from __future__ import annotations

import logging
import tempfile
from contextlib import nullcontext
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from dubber.dub.duck import DuckOptions
from dubber.dub.report import DubFacts, DubSummary, RateLimits, build_report, to_json
from dubber.dub.timeline import FitOptions, Placement
from dubber.errors import OptionError
from dubber.events import NO_EVENTS, Events
from dubber.jobs.common import (TranslateJob, analyse, bilingual_sources, cast_speakers, check_input_mode, early_start,
                                total_usage)
from dubber.jobs.dub_language import LanguagePass, dub_language, dub_request, layout
from dubber.jobs.dub_text import Voiced, text_language
from dubber.jobs.outputs import OutputSet, guard_input, output_path, prepare_dir
from dubber.media.audio import ANALYSIS_RATE
from dubber.media.capability import choose, dub_needs
from dubber.media.carry import CarryPlan, carry_plan
from dubber.media.loudness import track_loudness
from dubber.media.mux import WEBM_VIDEO, DubMix, MuxSpec, OutputKind, Track, build_mux_args, default_suffix, output_kind
from dubber.media.probe import probe
from dubber.media.stretch import stretch_method
from dubber.media.tool import run_ffmpeg
from dubber.models import MediaInfo, Speaker, Translation, Usage
from dubber.subtitles.reader import read_subtitles
from dubber.subtitles.writers import WRITERS
from dubber.voicing.report import lines_report, lines_summary

log = logging.getLogger(__name__)

MIXES = ("duck", "replace")
TIMINGS = ("original", "dub")  # what the subtitles are timed to: the original speech, or the dub's
NO_CUES = "no speech found: the dub track is silent and the subtitles are empty"


@dataclass(frozen=True, kw_only=True)
class DubJob(TranslateJob):
    output: Path | None = None  # None: <stem>.<lang>.<ext> (several: <stem>.fr+de.<ext>) in ``out_dir``
    out_dir: Path | None = None  # None: beside the input
    voice: str = "Cherry"  # every language's
    mix: str = "duck"
    keep_original: bool = True
    fit: FitOptions = field(default_factory=FitOptions)
    duck: DuckOptions = field(default_factory=DuckOptions)
    timing: str = "original"
    subtitles: tuple[Path, ...] = ()  # a dub from text: each target's given subtitles, in --to order
    voices: tuple[tuple[int, str], ...] = ()  # with speakers: (speaker, voice) given by hand (--voices)

    def __post_init__(self) -> None:
        if self.mix not in MIXES:
            raise OptionError(f"unknown mix {self.mix!r} (known: {', '.join(MIXES)})")
        if self.timing not in TIMINGS:
            raise OptionError(f"unknown timing {self.timing!r} (known: {', '.join(TIMINGS)})")
        codes = [lang.code for lang in self.targets]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:  # parse_langs already keeps each code once; a job built in Python may not
            raise OptionError(f"--to names {', '.join(twice)} twice: each language's tracks and files would collide")
        if self.subtitles:
            if len(self.subtitles) != len(self.targets):
                raise OptionError(f"--subtitles names {len(self.subtitles)} files for {len(self.targets)} languages: "
                                  "give one file per language")
            if self.transcriber is not None:
                raise OptionError("--bilingual transcribes the speech for its source lines; a dub from --subtitles "
                                  "shows the given text")
            if self.timing != "original":
                raise OptionError("--timing dub: a dub from --subtitles keeps the given cues' times")
        if self.voices and self.speakers is None:
            raise OptionError("--voices gives each speaker a voice: it needs --speakers auto or a number")


@dataclass(frozen=True)
class LanguageFiles:
    """One language's files beside the dubbed media: its sidecar subtitles and its report."""

    code: str
    srt: Path
    vtt: Path
    report: Path


@dataclass(frozen=True)
class DubOutputs:
    """The dubbed media, and per language its sidecar subtitles (named after the media, so players find
    them) and its report."""

    media: Path
    languages: tuple[LanguageFiles, ...]

    @classmethod
    def beside(cls, media_path: Path, codes: Sequence[str]) -> "DubOutputs":
        def named(code: str, suffix: str) -> Path:
            # one language: the media's own name (it names the language); several: a language suffix each
            return media_path.with_suffix(suffix) if len(codes) == 1 else \
                media_path.with_name(f"{media_path.stem}.{code}{suffix}")

        return cls(media_path, tuple(LanguageFiles(code, named(code, ".srt"), named(code, ".vtt"),
                                                   named(code, ".dub.json")) for code in codes))

    # the first language's files (the only one's, in a single-language run)
    @property
    def srt(self) -> Path:
        return self.languages[0].srt

    @property
    def vtt(self) -> Path:
        return self.languages[0].vtt

    @property
    def report(self) -> Path:
        return self.languages[0].report

    def all(self) -> tuple[Path, ...]:
        """The media, then each language's srt, vtt and report, in ``--to`` order."""
        return self.media, *(path for files in self.languages for path in (files.srt, files.vtt, files.report))


@dataclass(frozen=True)
class LanguageDub:
    """One language's outcome: its files, its figures, and what its report holds (``report()``)."""

    files: LanguageFiles
    summary: DubSummary
    facts: DubFacts  # its target, loudness, notes, rate limits, overlong cues
    translations: tuple[Translation, ...]  # each window's text (no speech)
    placements: tuple[Placement, ...]
    usage: Usage  # its translations' (the --bilingual transcripts are the run's)
    voiced: Voiced | None = None  # a dub from text: each given line's fate

    @property
    def code(self) -> str:
        return self.facts.target

    def report(self) -> dict:
        """The language's report (``<stem>.<lang>.dub.json``), JSON-ready."""
        report = build_report(self.facts, self.translations, self.placements)
        if self.voiced is not None:
            report["cues"] = lines_report(self.voiced.lines, self.placements)
            report["summary"]["lines"] = lines_summary(self.voiced.lines)
        return report


@dataclass(frozen=True)
class DubResult:
    outputs: DubOutputs
    usage: Usage  # every request of the run
    notes: tuple[str, ...]
    languages: tuple[LanguageDub, ...]  # in --to order

    @property
    def summary(self) -> DubSummary:
        """The first language's figures (the windows are every language's)."""
        return self.languages[0].summary


def plan_outputs(job: DubJob, info: MediaInfo) -> DubOutputs:
    suffix = default_suffix(job.input, info.has_video)
    codes = [lang.code for lang in job.targets]
    return DubOutputs.beside(job.output or output_path(job.input, job.out_dir, "+".join(codes), suffix), codes)


def _check_kind(kind: OutputKind, info: MediaInfo, path: Path, languages: int) -> None:
    """Refuse, before anything is paid for, a kind that cannot hold what the run makes. WebM holds only
    VP8/VP9/AV1, and the video is never re-encoded; wav, mp3 and flac hold one audio stream."""
    if languages > 1 and not kind.multi_audio:
        raise OptionError(f"{path.name}: a {path.suffix} holds one audio stream, not a dub per language: "
                          f"write .mka or .mkv (-o {path.with_suffix('.mka').name}), or dub one language a run")
    if kind.muxer != "webm" or not info.has_video:
        return
    bad = sorted(set(info.video_codecs) - WEBM_VIDEO)
    if bad:
        raise OptionError(f"{path.name}: WebM cannot hold {', '.join(bad)} video, which dubber copies "
                          "without re-encoding; choose .mkv or the input's own kind")


def _original_track(job: DubJob, info: MediaInfo) -> Track | None:
    if not job.keep_original:
        return None
    if job.source is not None:
        return Track(job.source.iso639_2, f"Original ({job.source.name})")
    return Track(info.audio_language or "und", "Original")


def _notes(kind: OutputKind, suffix: str, carry: CarryPlan) -> list[str]:
    """What the run's file holds differently from the input (every language's report says it)."""
    notes = [dropped.note(suffix) for dropped in carry.dropped]
    notes += [f"input stream {c.stream.index} ({c.stream.type}, {c.stream.codec}) was converted to {c.codec}: "
              f"a {suffix} cannot hold {c.stream.codec}" for c in carry.audio + carry.subtitles if c.codec]
    if kind.subtitle_codec is None:
        notes.append("subtitles are in the sidecar files only: this kind of file cannot hold them")
    return notes


def _run_notes(notes: list[str], passes: Sequence[LanguagePass]) -> tuple[str, ...]:
    """The run's notes: the file's, and the languages left without cues (all of them: no speech)."""
    silent = [p.lang.code for p in passes if not p.cues.cues]
    if silent and len(silent) == len(passes):
        return (*notes, NO_CUES)
    return (*notes, *(f"{code}: {NO_CUES}" for code in silent))


def _mix(kind: OutputKind, done: LanguagePass, subtitles: Path) -> DubMix:
    """A language's part of the final pass: its encoded mix, its subtitles, its tracks' tags."""
    lang = done.lang
    return DubMix(done.rendered.encoded, subtitles if kind.subtitle_codec and done.cues.cues else None,
                  Track(lang.iso639_2, f"{lang.name} dub"), Track(lang.iso639_2, lang.name))


def _mux(job: DubJob, info: MediaInfo, kind: OutputKind, mixes: tuple[DubMix, ...], media: Path, dest: Path,
         carry: CarryPlan, duration_ms: int, events: Events) -> None:
    spec = MuxSpec(input=info.path, audio_index=info.audio_index, dubs=mixes, output=dest, kind=kind,
                   original=_original_track(job, info), carry=carry)
    events.stage("mux", total=duration_ms / 1000, unit="s")
    run_ffmpeg(build_mux_args(spec), what=f"writing {media.name}")
    events.advance(duration_ms / 1000)  # at once: see analyse()


def _outcome(job: DubJob, done: LanguagePass, files: LanguageFiles, media: Path, duration_ms: int, windows: int,
             stretch: str, notes: list[str], voiced: Voiced | None = None,
             speakers: tuple[Speaker, ...] = ()) -> LanguageDub:
    fetched, rendered = done.fetched, done.rendered
    facts = DubFacts(job.input, media, (files.srt, files.vtt), done.lang.code, job.voice, job.mix, job.fit.max_speed,
                     duration_ms, stretch, rendered.original, rendered.dub,
                     tuple(notes if done.cues.cues else [*notes, NO_CUES]),
                     RateLimits(job.fetch.jobs, fetched.lowest_in_flight, fetched.rate_limit_cuts), done.cues.overlong,
                     speakers)
    return LanguageDub(files, DubSummary.of(windows, done.placements), facts, done.translations, done.placements,
                       total_usage(done.translations), voiced)


def run_dub(job: DubJob, events: Events = NO_EVENTS) -> DubResult:
    info = probe(job.input)
    given = tuple(read_subtitles(path) for path in job.subtitles)  # a file that cannot be read stops the run here
    outputs = plan_outputs(job, info)
    kind = output_kind(outputs.media)
    _check_kind(kind, info, outputs.media, len(job.targets))
    ffmpeg = choose(dub_needs(kind, job.backend.config.input_mode), f"dub into {outputs.media.suffix or 'this file'}")
    prepare_dir(outputs.media.parent)
    guard_input(list(outputs.all()), job.input)
    carry = carry_plan(info.streams, kind.holds(), job.keep_original)  # every stream it can hold
    check_input_mode(info, job.backend.config.input_mode)
    # Every file of the run is written under a temporary name and put in place together at the end.
    with OutputSet() as files, tempfile.TemporaryDirectory(prefix="dubber-") as tmp, \
            (early_start(job, dub_request(job, job.target)) if not given else nullcontext()) as early:
        work = Path(tmp)
        analysis = analyse(info, work, job.vad_method, job.windows, events=events, early=early, speakers=job.speakers)
        speakers = cast_speakers(job.backend.name, dict(job.voices), job.voice, analysis)
        voices = {s.number: s.voice for s in speakers if s.voice}
        with ThreadPoolExecutor(1, thread_name_prefix="loudness") as measuring:
            # measured on the decoded analysis audio, as the mix hears it, while the first windows are out:
            # the first clip needs it, the requests do not
            original = measuring.submit(track_loudness, analysis.pcm, ANALYSIS_RATE, 2 if layout(info) == "stereo" else 1)
            sources = bilingual_sources(job, analysis, events, early)  # once, for every language
            stretch = stretch_method(ffmpeg.filters)
            if given:
                texts_done = [text_language(job, lang, file, analysis, original, work / lang.code, stretch, kind,
                                            events, voices) for lang, file in zip(job.targets, given)]
                passes, voiced = [done for done, _ in texts_done], [v for _, v in texts_done]
            else:
                passes = [dub_language(job, lang, analysis, original, sources, work / lang.code, stretch, kind,
                                       events, early, voices) for lang in job.targets]
                voiced = [None] * len(passes)
        texts, mixes = [], []
        for done in passes:
            cues = list(done.cues.cues)
            texts.append({fmt: WRITERS[fmt](cues, done.lang.code) for fmt in ("srt", "vtt")})
            embedded = done.folder / f"subtitles.{kind.subtitle_sidecar}"
            embedded.write_text(texts[-1][kind.subtitle_sidecar], encoding="utf-8")
            mixes.append(_mix(kind, done, embedded))
        _mux(job, info, kind, tuple(mixes), outputs.media, files.part(outputs.media), carry, analysis.duration_ms,
             events)
        notes = _notes(kind, outputs.media.suffix, carry)
        languages = tuple(_outcome(job, done, lang_files, outputs.media, analysis.duration_ms, len(analysis.windows),
                                   stretch, notes, lines, speakers)
                          for done, lang_files, lines in zip(passes, outputs.languages, voiced))
        events.stage("write", total=len(outputs.all()), unit="files")
        given_paths = {path.resolve() for path in job.subtitles}
        for done, text in zip(languages, texts):
            for path, fmt in ((done.files.srt, "srt"), (done.files.vtt, "vtt")):
                if path.resolve() in given_paths:  # the given file itself (the edit flow's sidecar): it is the source
                    log.info("%s is the given subtitles: left as it is", path.name)
                    continue
                files.write_text(path, text[fmt])
            files.write_text(done.files.report, to_json(done.report()))
        files.commit()
    paid = [t for done in passes for t in done.translations] + list(sources.transcripts if sources else ())
    return DubResult(outputs, total_usage(paid), _run_notes(notes, passes), languages)
