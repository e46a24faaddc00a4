"""What every job shares: the options, and the first stages: probe → decode the audio once → find the
speech → plan the windows → send every window to a backend (concurrently, retried, cached)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from dubber.backends import BackendConfig, TranslateRequest, WindowMedia, backend_spec, make_backend
from dubber.errors import InputError
from dubber.events import NO_EVENTS, Events
from dubber.languages import Lang
from dubber.media.audio import ANALYSIS_RATE, PcmFile, extract_pcm, wav_bytes
from dubber.models import MediaInfo, Span, Speaker, Translation, Turn, Usage, Window
from dubber.speakers import SpeakerOptions
from dubber.speakers.turns import changes, label_windows
from dubber.speech import vad
from dubber.speech.frames import Samples
from dubber.speech.windows import WindowOptions, plan_settled, plan_windows
from dubber.subtitles.cues import CueOptions
from dubber.translate.fetch import Fetcher, FetchOptions, FetchPlan, FetchStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendChoice:
    """A service chosen by name (``dubber.backends.NAMES``) and how to reach it."""

    name: str
    config: BackendConfig


@dataclass(frozen=True, kw_only=True)
class JobBase:
    """What every job shares: the input, the service, how the audio becomes windows and windows become
    requests, and the cue rules."""

    input: Path
    backend: BackendChoice
    source: Lang | None = None  # None: the service detects it
    vad_method: str = vad.DEFAULT_METHOD
    windows: WindowOptions = field(default_factory=WindowOptions)
    cues: CueOptions = field(default_factory=CueOptions)
    fetch: FetchOptions = field(default_factory=FetchOptions)
    speakers: SpeakerOptions | None = None  # None: speakers are not told apart


@dataclass(frozen=True, kw_only=True)
class TranslateJob(JobBase):
    """A job that translates: into ``target`` (and ``extra_targets``), honouring a glossary where the service takes instructions;
    with ``transcriber`` (``--bilingual``), each cue also shows the source line."""

    target: Lang
    extra_targets: tuple[Lang, ...] = ()  # more languages after ``target`` (``--to fr,de,ja``), each in turn
    glossary: tuple[tuple[str, str], ...] = ()
    transcriber: BackendChoice | None = None

    @property
    def targets(self) -> tuple[Lang, ...]:
        return (self.target, *self.extra_targets)


@dataclass(frozen=True)
class Analysis:
    """The input's audio (mono PCM16 at ANALYSIS_RATE, on disk, read a slice at a time), its speech and its
    windows."""

    info: MediaInfo
    pcm: PcmFile
    duration_ms: int
    speech: tuple[Span, ...]
    windows: tuple[Window, ...]
    workdir: Path  # the run's scratch folder (window clips are cut there)
    turns: tuple[Turn, ...] = ()  # who speaks when (``--speakers``); the windows then carry their speaker


EARLY_S = 300  # seconds decoded first from a longer input: their windows are sent while the rest decodes
# How far before a prefix's end its speech detection may differ from the whole's: the energy detector's
# floor looks half its window ahead, plus a hop (tests/jobs/test_early_start_e2e.py holds the two together)
TRUSTED_MARGIN_MS = 10_000


def analyse(info: MediaInfo, workdir: Path, vad_method: str, options: WindowOptions,
            events: Events = NO_EVENTS, early: Callable[[Analysis], None] | None = None,
            early_s: int = EARLY_S, speakers: SpeakerOptions | None = None) -> Analysis:
    """Decode once, find the speech, plan the windows.

    With ``early``, an input longer than ``early_s`` has its first ``early_s`` seconds decoded and analysed
    first, and ``early`` is handed that prefix's analysis, holding only the windows the whole plan will
    share (``plan_settled``): a job sends them while the rest is decoded, so its first requests go
    within a second, not after the hour's decode."""
    raw = workdir / "audio.pcm"
    # the decode and the mux show as stages with their times, not percentages: ffmpeg's -progress report
    # is not read (run_ffmpeg waits on ffmpeg's CPU use instead, to catch a deadlocked pass)
    events.stage("extract", total=info.duration_ms / 1000, unit="s")
    if early is not None and speakers is None and info.duration_ms > early_s * 1000 + 2 * TRUSTED_MARGIN_MS:
        prefix = _analyse_prefix(info, workdir, vad_method, options, early_s)
        if prefix.windows:
            early(prefix)
    extract_pcm(info, raw)
    events.advance(info.duration_ms / 1000)
    pcm, levels, speech = _speech(raw, vad_method)
    duration_ms = max(info.duration_ms, len(pcm) * 1000 // ANALYSIS_RATE)
    turns = find_turns(pcm, speakers, events) if speakers is not None else []
    windows = plan_windows(speech, duration_ms, levels, vad.FRAME_MS, options, cuts=changes(turns))
    if turns:
        windows = label_windows(windows, turns)
    log.info("%s: %d ms of speech in %d windows", info.path.name, sum(s.duration_ms for s in speech), len(windows))
    return Analysis(info, pcm, duration_ms, tuple(speech), tuple(windows), workdir, tuple(turns))


def cast_speakers(backend: str, given: Mapping[int, str], default: str, analysis: Analysis) -> tuple[Speaker, ...]:
    """With speakers found, each one's voice for every language: ``given`` (``--voices``), else chosen from
    ``backend``'s voices to match their pitch (a lone speaker keeps ``default``, the run's voice)."""
    if not analysis.turns:
        return ()
    from dubber.speakers.cast import cast  # the speakers extra (its pitch tracker)

    speakers = cast(analysis.pcm, ANALYSIS_RATE, analysis.turns, backend_spec(backend).voices, given, default)
    for s in speakers:
        log.info("speaker %d: %.1f s of speech, pitch %s, voice %s", s.number, s.talk_ms / 1000,
                 f"{s.pitch_hz:g} Hz" if s.pitch_hz else "unknown", s.voice)
    return speakers


def find_turns(pcm: Samples, speakers: SpeakerOptions, events: Events = NO_EVENTS) -> list[Turn]:
    """Who speaks when in the decoded track (a stage of its own: it takes a second a minute of audio)."""
    from dubber.speakers.diarize import diarize  # the speakers extra

    events.stage("speakers", total=len(pcm) / ANALYSIS_RATE, unit="s")
    turns = diarize(pcm, ANALYSIS_RATE, speakers)
    events.advance(len(pcm) / ANALYSIS_RATE)
    log.info("%d speakers in %d turns", len({t.speaker for t in turns}), len(turns))
    return turns


def _analyse_prefix(info: MediaInfo, workdir: Path, vad_method: str, options: WindowOptions,
                    seconds: int) -> Analysis:
    """The first ``seconds``, analysed as ``analyse`` does, keeping only what is settled."""
    raw = workdir / "prefix.pcm"
    extract_pcm(info, raw, seconds=seconds)
    pcm, levels, speech = _speech(raw, vad_method)
    trusted_ms = len(pcm) * 1000 // ANALYSIS_RATE - TRUSTED_MARGIN_MS
    windows = plan_settled(speech, trusted_ms, levels, vad.FRAME_MS, options)
    log.info("%d windows settled in the first %d s: they go while the rest is decoded", len(windows), seconds)
    end_ms = windows[-1].end_ms if windows else 0
    return Analysis(info, pcm, end_ms, tuple(s for w in windows for s in w.speech), tuple(windows), workdir)


def _speech(raw: Path, vad_method: str) -> tuple[PcmFile, np.ndarray, tuple[Span, ...]]:
    """The decoded audio, its band levels (computed once: the detector and the planner both use them) and
    its speech."""
    pcm = PcmFile(raw)
    levels = vad.frame_levels(pcm, ANALYSIS_RATE)
    return pcm, levels, vad.detect_speech(pcm, ANALYSIS_RATE, method=vad_method, levels=levels)


class EarlyStart:
    """A job's first fetch, started on a prefix's windows while the rest of the input is decoded (the hook
    ``analyse`` takes); ``translate_windows(..., early=)`` then goes on with it. Leaving the ``with``
    block on an error stops what it sent."""

    def __init__(self, choice: BackendChoice, request: TranslateRequest, fetch: FetchOptions) -> None:
        self.choice, self.request, self.fetch = choice, request, fetch
        self.fetcher: Fetcher | None = None

    def __call__(self, prefix: Analysis) -> None:
        self.fetcher = Fetcher(make_backend(self.choice.name, self.choice.config), self.request, self.fetch)
        self.fetcher.submit(_plan(self.choice, prefix, self.request))

    def __enter__(self) -> "EarlyStart":
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is not None and self.fetcher is not None:
            self.fetcher.stop()

    def take(self, choice: BackendChoice, request: TranslateRequest) -> Fetcher | None:
        """The started fetch, for the fetch it was started for (once)."""
        if self.fetcher is None or (choice, request) != (self.choice, self.request):
            return None
        fetcher, self.fetcher = self.fetcher, None
        return fetcher


def _plan(choice: BackendChoice, analysis: Analysis, request: TranslateRequest,
          voices: Mapping[int, str] | None = None) -> FetchPlan:
    mode = choice.config.input_mode
    return FetchPlan(analysis.windows, lambda w: window_media(analysis, w, mode), request, voices or {})


def window_wav(pcm: Samples, window: Window) -> bytes:
    """``window``'s audio as WAV bytes: only its slice of the track is read."""
    per_ms = ANALYSIS_RATE // 1000
    return wav_bytes(pcm[window.start_ms * per_ms:window.end_ms * per_ms], ANALYSIS_RATE)


def window_media(analysis: Analysis, window: Window, input_mode: str) -> WindowMedia:
    """What ``window`` sends: its audio as WAV, or (``input_mode`` "video") a short clip of the input."""
    if input_mode == "video":
        from dubber.media.clip import video_clip

        return WindowMedia(video_clip(analysis.info, window, analysis.workdir), "video/mp4")
    return WindowMedia(window_wav(analysis.pcm, window), "audio/wav")


def check_input_mode(info: MediaInfo, input_mode: str) -> None:
    """Refuse video input for a file with no picture, before anything is paid for."""
    if input_mode == "video" and not info.has_video:
        raise InputError(info.path, "has no video stream: --input-mode video needs one (use audio)")


def translate_windows(choice: BackendChoice, analysis: Analysis, request: TranslateRequest, *,
                      fetch: FetchOptions = FetchOptions(),
                      on_done: Callable[[Translation], None] | None = None,
                      keep: Callable[[Translation], Translation] | None = None,
                      events: Events = NO_EVENTS, early: EarlyStart | None = None,
                      voices: Mapping[int, str] | None = None) -> tuple[list[Translation], FetchStats]:
    """Send every window to ``choice`` (concurrently, cached, retried); results in window order (see
    fetch_all), and how the fetching went. The request's task says what comes back: a translation, or
    the words as spoken. ``events`` hears of the stage and of each window. ``early``: the fetch started
    on the first windows during the analysis, if it was this one. ``voices``: each speaker's voice, for
    the windows that have a speaker (the request's voice is the others')."""
    fetcher = early.take(choice, request) if early is not None else None
    if fetcher is None:
        fetcher = Fetcher(make_backend(choice.name, choice.config), request, fetch)
    events.stage(request.task, total=len(analysis.windows), unit="windows",
                 detail=request.target.code if request.target is not None else "")
    translations, stats = fetcher.collect(_plan(choice, analysis, request, voices), on_done, keep, events)
    log.info("%d windows: %d from the cache, %d requested", len(translations), stats.cached, stats.fetched)
    return translations, stats


def transcribe_request(source: Lang | None, itn: bool = True) -> TranslateRequest:
    return TranslateRequest(target=None, source=source, task="transcribe", itn=itn)


def transcribe_windows(choice: BackendChoice, analysis: Analysis, source: Lang | None, fetch: FetchOptions,
                       itn: bool = True, events: Events = NO_EVENTS, early: EarlyStart | None = None) -> list[Translation]:
    """Every window's words as spoken, in the source language (``source``, or as the service detects it)."""
    return translate_windows(choice, analysis, transcribe_request(source, itn), fetch=fetch, events=events,
                             early=early)[0]


def detected_language(transcripts: Sequence[Translation]) -> str | None:
    """The language most windows were detected in (by their speech), if the service said."""
    votes: dict[str, int] = {}
    for t in transcripts:
        if t.result.language:
            votes[t.result.language] = votes.get(t.result.language, 0) + t.window.duration_ms
    return max(votes, key=votes.get) if votes else None


@dataclass(frozen=True)
class Sources:
    """The source line of each window for bilingual cues, in ``code``'s writing rules."""

    texts: dict[int, str]
    code: str | None
    transcripts: tuple[Translation, ...]  # for their usage


def bilingual_sources(job: TranslateJob, analysis: Analysis, events: Events = NO_EVENTS,
                      early: EarlyStart | None = None) -> Sources | None:
    """With ``--bilingual``, every window transcribed by the job's transcriber; else None."""
    if job.transcriber is None:
        return None
    transcripts = transcribe_windows(job.transcriber, analysis, job.source, job.fetch, events=events, early=early)
    code = job.source.code if job.source else detected_language(transcripts)
    return Sources({t.window.index: t.result.text for t in transcripts}, code, tuple(transcripts))


def early_start(job: TranslateJob, first: TranslateRequest) -> EarlyStart:
    """The job's first fetch, to start during the analysis: the transcription with ``--bilingual``, else
    ``first`` (the first language's)."""
    if job.transcriber is not None:
        return EarlyStart(job.transcriber, transcribe_request(job.source), job.fetch)
    return EarlyStart(job.backend, first, job.fetch)


def total_usage(translations: Sequence[Translation]) -> Usage:
    usages = [t.result.usage for t in translations if t.result.usage is not None]
    return Usage(*(sum(getattr(u, f) for u in usages) for f in ("prompt_tokens", "completion_tokens", "total_tokens")))
