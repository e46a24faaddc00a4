"""`dubber live`: a live source captioned as it plays (``dubber.live``): its audio cut into windows as soon
as the speech allows, each window sent at once to every language's fetcher (``--jobs`` requests in
flight, retried, cached), and each language's cues written in window order as the answers come in.

Two threads: the one that reads the source, cuts it and sends the windows, and one that waits for the
answers in order and writes them, and with ``--dub`` renders each language's dub track into an HLS audio
rendition (``dubber.live.dubtrack``). A window whose answer still fails after its retries leaves a gap
without cues (and silence in the dub) and a warning; a refusal no retry can cure (a bad key) stops the run.
At the end of the stream, or on Ctrl-C, what was heard is finished: the open window is sent, every answer
waited for, and each language's outputs completed.
"""
from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

from dubber.backends import TranslateRequest, WindowMedia, make_backend
from dubber.errors import InputError, ToolError, TransientError
from dubber.events import NO_EVENTS, Events, WindowRecord
from dubber.jobs.common import BackendChoice
from dubber.languages import Lang
from dubber.live.cutter import RATE, Closed, CutOptions, Cutter
from dubber.live.dubtrack import NEEDS, DubOptions, LiveDub
from dubber.live.outputs import LiveWriter
from dubber.live.source import Gap, LiveSource, check_source
from dubber.media.audio import wav_bytes
from dubber.media.capability import choose
from dubber.media.stretch import stretch_method
from dubber.models import Cue, Translation
from dubber.subtitles.cues import CueOptions, build_cue_track
from dubber.translate.fetch import FetchOptions, FetchPlan, Fetcher

log = logging.getLogger(__name__)

FRONTIER_EVERY_MS = 1000  # how often the writer hears how far no window can still start (HLS segments)
LINGER_MS = 2000  # how far past its window a cue may run (the next window's cues start after it)


@dataclass(frozen=True, kw_only=True)
class LiveJob:
    source: str  # a URL, a device, a file, or "-"
    out_dir: Path
    backend: BackendChoice
    targets: tuple[Lang, ...]
    source_lang: Lang | None = None
    glossary: tuple[tuple[str, str], ...] = ()
    speed: float | None = None  # None: a live source; else a file read at this pace (1.0: --realtime)
    segment_ms: int = 6000
    cut: CutOptions = field(default_factory=CutOptions)
    cues: CueOptions = field(default_factory=CueOptions)
    fetch: FetchOptions = field(default_factory=FetchOptions)
    voice: str | None = None  # --dub: each window's speech asked for too, in this voice; None: captions only


@dataclass(frozen=True)
class WindowOutcome:
    index: int
    start_ms: int
    end_ms: int
    closed_s: float  # since the run started (monotonic), when the window closed
    written_s: dict[str, float]  # per language, when its cues were written (missing: failed)
    cues: int


@dataclass(frozen=True)
class LiveResult:
    files: dict[str, tuple[Path, ...]]  # per language: its rolling VTT, SRT, playlist (and the dub's)
    windows: tuple[WindowOutcome, ...]
    failed: int
    gaps: tuple[Gap, ...]
    duration_ms: int
    stopped: bool  # Ctrl-C, not the stream's end


def window_media(closed: Closed) -> WindowMedia:
    return WindowMedia(wav_bytes(closed.samples, RATE), "audio/wav")


class _Senders:
    """One fetcher per language; each closed window is handed to all of them at once."""

    def __init__(self, job: LiveJob) -> None:
        self.job = job
        self.requests = {lang.code: TranslateRequest(target=lang, source=job.source_lang, glossary=job.glossary)
                         for lang in job.targets}
        if job.voice is not None:
            self.requests = {code: replace(request, want_audio=True, voice=job.voice)
                             for code, request in self.requests.items()}
        self.fetchers = {code: Fetcher(make_backend(job.backend.name, job.backend.config), request, job.fetch)
                         for code, request in self.requests.items()}

    def send(self, closed: Closed) -> dict[str, Future]:
        media = window_media(closed)
        futures = {}
        for code, fetcher in self.fetchers.items():
            fetcher.submit(FetchPlan((closed.window,), lambda w: media, self.requests[code]))
            futures[code] = fetcher.sent.pop(closed.window)  # held by the writer only, until written
        return futures

    def stop(self) -> None:
        for fetcher in self.fetchers.values():
            fetcher.stop()

    def close(self) -> None:
        for fetcher in self.fetchers.values():
            fetcher.pool.shutdown()


class _Writer(threading.Thread):
    """Writes each language's cues in window order, as the answers complete, then renders its dub."""

    def __init__(self, job: LiveJob, writers: dict[str, LiveWriter], dubs: dict[str, LiveDub], started: float,
                 events: Events) -> None:
        super().__init__(name="live-writer", daemon=True)
        self.job, self.writers, self.dubs, self.started = job, writers, dubs, started
        self.work: queue.Queue = queue.Queue()
        self.outcomes: list[WindowOutcome] = []
        self.failed = 0
        self.error: BaseException | None = None
        self.latest: float | None = None  # the last window's delay from its speech's end to its cues
        self._last_end = {code: 0 for code in writers}
        self.events = events

    def run(self) -> None:
        try:
            while (item := self.work.get()) is not None:
                kind, *rest = item
                if kind == "window":
                    self._window(*rest)
                else:
                    for writer in self.writers.values():
                        writer.advance(rest[0])
                    for dub in self.dubs.values():
                        dub.advance(rest[0])
        except BaseException as exc:  # handed to the reading thread, which stops the run
            self.error = exc

    def _window(self, closed: Closed, futures: dict[str, Future], closed_s: float) -> None:
        window = closed.window
        written, count = {}, 0
        for dub in self.dubs.values():  # the window before has its slot now: rendered while this one's answer comes
            dub.next_window(window.start_ms)
        for code, future in futures.items():
            try:
                translation, _ = future.result()
            except TransientError as exc:
                self.failed += 1
                log.warning("%s: window %d (%.1f-%.1f s) failed after its retries: no cues there (%s)", code,
                            window.index, window.start_ms / 1000, window.end_ms / 1000, exc.message)
                if code in self.dubs:
                    self.dubs[code].add(window, None)
                continue
            cues = self._cues(code, translation)
            self.writers[code].add(cues)
            written[code] = time.monotonic() - self.started
            count += len(cues)
            if code in self.dubs:
                self.dubs[code].add(window, translation)
        speech_end = window.speech[-1].end_ms if window.speech else window.end_ms
        if written:
            self.latest = max(written.values()) - closed_s + (window.end_ms - speech_end) / 1000
        self.outcomes.append(WindowOutcome(window.index, window.start_ms, window.end_ms, closed_s, written, count))

    def last_end(self, code: str) -> int:
        """Where the last cue written in ``code`` ends."""
        return self._last_end[code]

    def _cues(self, code: str, translation: Translation) -> list[Cue]:
        """The window's cues, each starting after the last one written (a cue may linger into the next)."""
        window = translation.window
        track = build_cue_track([translation], code, window.end_ms + LINGER_MS, self.job.cues)
        gap = self.job.cues.rules(code).gap_ms
        out = []
        for cue in track.cues:
            start = max(cue.start_ms, self._last_end[code] + gap)
            end = max(cue.end_ms, start + self.job.cues.rules(code).min_ms // 2)
            out.append(Cue(start, end, cue.text))
            self._last_end[code] = end
        return out


def _record(events: Events, writer: _Writer, seen: int) -> int:
    """Tell ``events`` of the windows written since the last call; the current latency as status."""
    for outcome in writer.outcomes[seen:]:
        for code in writer.writers:
            ok = code in outcome.written_s
            events.window(WindowRecord(outcome.index, outcome.start_ms, outcome.end_ms, "translate", code,
                                       "ok" if ok else "failed", False, 1, 0.0))
    if writer.latest is not None:
        events.status(f"latency {writer.latest:.1f} s")
    return len(writer.outcomes)


def _open_dubs(job: LiveJob, stretch: str) -> dict[str, LiveDub]:
    """Each language's dub track, its ffmpeg started (none without ``job.voice``)."""
    dubs: dict[str, LiveDub] = {}
    if job.voice is not None:
        try:
            for lang in job.targets:
                dubs[lang.code] = LiveDub(job.out_dir, lang.code, job.segment_ms, stretch,
                                          DubOptions(pause_ms=job.cut.pause_ms))
        except BaseException:
            _abort(dubs)
            raise
    return dubs


def _abort(dubs: dict[str, LiveDub]) -> None:
    for dub in dubs.values():
        dub.abort()


def _close_dubs(dubs: dict[str, LiveDub], end_ms: int, stopped: bool) -> None:
    """Finish each dub track at ``end_ms``. After a Ctrl-C, a dub whose ffmpeg stopped is a warning: a
    terminal's Ctrl-C reaches every process of the group, and that ffmpeg ends its playlist where it was."""
    try:
        for code, dub in dubs.items():
            try:
                dub.close(end_ms)
            except ToolError as exc:
                if not stopped:
                    raise
                log.warning("%s: the dub stops where Ctrl-C reached its ffmpeg (%s)", code, exc)
    finally:
        _abort(dubs)  # those not closed, when one failed


def _discard(folder: Path, writers: dict[str, LiveWriter], dubs: dict) -> None:
    """Remove what a run that heard nothing had begun to write (its empty files, and its folder if empty)."""
    for w in writers.values():
        w.release()
    for path in [p for w in writers.values() for p in (w.vtt, w.playlist)] + [d.playlist for d in dubs.values()]:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()


def run_live(job: LiveJob, events: Events = NO_EVENTS) -> LiveResult:
    """Caption ``job.source`` until it ends (or Ctrl-C); see the module docstring."""
    check_source(job.source)
    stretch = stretch_method(choose(NEEDS, "dub a live stream").filters) if job.voice is not None else ""
    job.out_dir.mkdir(parents=True, exist_ok=True)
    source = LiveSource(job.source, job.speed)
    started = source.started
    writers = {lang.code: LiveWriter(job.out_dir, lang.code, job.segment_ms) for lang in job.targets}
    dubs = _open_dubs(job, stretch)
    senders = _Senders(job)
    writer = _Writer(job, writers, dubs, started, events)
    writer.start()
    cutter = Cutter(job.cut)
    stopped = False
    events.stage("live", unit="s", detail=",".join(writers))
    seen, frontier_at = 0, 0
    try:
        try:
            for item in source:
                if isinstance(item, Gap):  # the source was gone: what was open ends, the timeline jumps
                    for closed in cutter.flush():
                        writer.work.put(("window", closed, senders.send(closed), time.monotonic() - started))
                    cutter.position_ms = item.end_ms
                    continue
                for closed in cutter.feed(item.samples):
                    writer.work.put(("window", closed, senders.send(closed), time.monotonic() - started))
                if cutter.position_ms - frontier_at >= FRONTIER_EVERY_MS:
                    frontier_at = cutter.position_ms
                    writer.work.put(("frontier", cutter.settled_ms()))
                if writer.error is not None:
                    raise writer.error
                for dub in dubs.values():
                    if dub.error is not None:
                        raise dub.error
                seen = _record(events, writer, seen)
                events.advance(len(item.samples) / 2 / RATE)
        except KeyboardInterrupt:
            stopped = True
            log.warning("stopping: finishing what was heard")
        for closed in cutter.flush():
            writer.work.put(("window", closed, senders.send(closed), time.monotonic() - started))
        writer.work.put(None)
        writer.join()
        if writer.error is not None:
            raise writer.error
    except BaseException as exc:
        senders.stop()
        writer.work.put(None)
        _abort(dubs)
        if isinstance(exc, InputError) and not writer.outcomes:  # nothing was heard: nothing is left behind
            _discard(job.out_dir, writers, dubs)
        raise
    senders.close()
    _record(events, writer, seen)
    for code, w in writers.items():  # a last cue may linger past the audio's end: the captions end with it
        w.close(max(cutter.position_ms, writer.last_end(code)))
    _close_dubs(dubs, cutter.position_ms, stopped)
    files = {code: (w.vtt, w.srt, w.playlist, *((dubs[code].playlist,) if code in dubs else ()))
             for code, w in writers.items()}
    return LiveResult(files, tuple(writer.outcomes), writer.failed, tuple(source.gaps), cutter.position_ms, stopped)
