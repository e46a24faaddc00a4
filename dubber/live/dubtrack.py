"""The dub of a live run, one track a language: each window's translated speech fitted onto the stream's
timeline looking no further ahead than the next window, and the track fed, as soon as it is final, to an
ffmpeg that writes an HLS audio rendition (AAC in MPEG-TS segments, ``audio.<lang>.m3u8``).

The fitting is ``dubber dub``'s rule (``dubber.dub.timeline``) for one clip at a time. A window's clip,
its silence trimmed, starts at the window's speech onset and may run until the next window's start less
the gap (100 ms); a window whose next one is not known when it is rendered (the stream's last) may run to
its own end plus the cutter's pause, within the stream. A longer clip is sped up, pitch kept, up to 1.3x,
then cut with a short fade. A window's clip is rendered when the next window closes (one window of
lookahead); or sooner, once no window still to close can start before it ends at natural speed (nothing
later could change it); or at the end.

The track starts at the stream's time 0 and is continuous: silence where nothing is dubbed (a pause, a
window that failed), so its timeline is the stream's and the captions'. Each clip is brought to R128's
-23 LUFS (live, there is no original to match) under the sample-peak ceiling. Memory is one clip a
language: the track is never kept.
"""
from __future__ import annotations

import logging
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubber.dub.clips import fit_samples, voiced_bounds
from dubber.dub.timeline import Clip, FitOptions, Placement, fit_timeline
from dubber.errors import ToolError
from dubber.live.cutter import CutOptions
from dubber.media.capability import Need, decode_needs
from dubber.media.loudness import FALLBACK_LUFS, gain_db, samples_loudness
from dubber.media.stretch import stretch_args
from dubber.media.tool import FfmpegFeed, run_ffmpeg
from dubber.models import Span, Translation, Window  # noqa: F401 (Span: the doctests)

log = logging.getLogger(__name__)

DUB_RATE = 24000  # Hz: the service's speech rate, and the track's
PER_MS = DUB_RATE // 1000
# ffmpeg's aac encoder puts this many samples of its own before the first (its initial padding), and
# MPEG-TS carries no edit list to drop them: the track's first PRIMING samples are left out in their place,
# so that each sample a player decodes plays at its time on the stream (the first packet's pts is 0).
PRIMING = 1024
# what a live dub needs of ffmpeg besides the source's decode: the stretch, the encoder and the muxers
NEEDS = decode_needs() | frozenset({Need("graph", "stretch"), Need("encoder", "aac"), Need("muxer", "hls"),
                                    Need("muxer", "mpegts")})


@dataclass(frozen=True)
class DubOptions:
    """``pause_ms``: how far past its window's end the last clip may run (the cutter's pause: a window
    closes that long after its speech). ``target_lufs``: every clip's loudness."""

    pause_ms: int = CutOptions().pause_ms
    fit: FitOptions = field(default_factory=FitOptions)
    target_lufs: float = FALLBACK_LUFS


def playlist_path(folder: Path, lang: str) -> Path:
    return Path(folder) / f"audio.{lang}.m3u8"


def hls_args(folder: Path, lang: str, segment_ms: int, rate: int = DUB_RATE) -> list[str]:
    """ffmpeg's arguments: mono PCM16 at ``rate`` on stdin, to AAC in MPEG-TS segments of ``segment_ms``
    (``audio.<lang>.<n>.ts``) listed in an EVENT playlist that ffmpeg ends at the end of its input (pure).
    No mux delay, so the first packet's pts is 0: the stream's time 0, as the subtitle rendition's map says.

    >>> args = hls_args(Path("out"), "fr", 4500)
    >>> " ".join(args[args.index("hls") - 1:-3])
    '-f hls -hls_time 4.5 -hls_playlist_type event -hls_segment_type mpegts'
    >>> args[-2:]
    ['out/audio.fr.%d.ts', 'out/audio.fr.m3u8']
    """
    template = str(Path(folder) / f"audio.{lang}.").replace("%", "%%") + "%d.ts"  # a template: % is its own
    return ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0", "-nostats", "-c:a", "aac",
            "-b:a", "64k", "-muxdelay", "0", "-muxpreload", "0",
            "-f", "hls", "-hls_time", f"{segment_ms / 1000:g}", "-hls_playlist_type", "event",
            "-hls_segment_type", "mpegts", "-hls_segment_filename", template, str(playlist_path(folder, lang))]


def onset_ms(window: Window) -> int:
    """Where a window's speech starts: its clip's anchor."""
    return window.speech[0].start_ms if window.speech else window.start_ms


def slot_end_ms(window: Window, next_start_ms: int | None, options: DubOptions = DubOptions()) -> int:
    """How far a window's clip may run: to the next window's start less the gap when that is known, else
    to its own end plus the cutter's pause.

    >>> window = Window(3, 1000, 2500, (Span(1100, 2400),))
    >>> slot_end_ms(window, 4000), slot_end_ms(window, None)
    (3900, 2800)
    """
    return next_start_ms - options.fit.gap_ms if next_start_ms is not None else window.end_ms + options.pause_ms


def fit_clip(start_ms: int, length_ms: int, slot_end_ms: int, options: FitOptions = FitOptions()) -> Placement | None:
    """Where a clip of ``length_ms`` plays from ``start_ms`` when it must end by ``slot_end_ms``: at natural
    speed when it fits, else sped up as far as ``max_speed`` and then cut (``fit_timeline``'s rule for one
    clip); None when none of it can play.

    >>> fits = fit_clip(1000, 1500, 4000), fit_clip(1000, 2600, 3000), fit_clip(1000, 3000, 3000)
    >>> [(p.start_ms, p.end_ms, p.speed, p.overflow_ms) for p in fits]
    [(1000, 2500, 1.0, 0), (1000, 3000, 1.3, 0), (1000, 3000, 1.3, 400)]
    """
    placed = fit_timeline([Clip(0, start_ms, length_ms)], slot_end_ms, options)
    return placed[0] if placed and placed[0].played_ms > 0 else None


@dataclass(frozen=True)
class DubClip:
    """A window's dubbed speech, its silence trimmed (empty: nothing to dub), and the gain that levels it."""

    window: Window
    samples: np.ndarray  # int16 mono at ``rate``
    rate: int
    gain_db: float

    @property
    def length_ms(self) -> int:
        return -(-len(self.samples) * 1000 // self.rate)  # ceil: never outgrows its slot


def dub_clip(window: Window, translation: Translation | None, target_lufs: float) -> DubClip:
    """A window's answer as a clip: its speech's silence trimmed, its gain to ``target_lufs`` measured."""
    result = translation.result if translation is not None else None
    if result is None or not result.audio_pcm:
        return DubClip(window, np.zeros(0, dtype="<i2"), DUB_RATE, 0.0)
    samples = np.frombuffer(result.audio_pcm, dtype="<i2")
    first, end = voiced_bounds(samples, result.audio_rate)
    clip = samples[first:end]
    level = samples_loudness(clip, result.audio_rate)
    return DubClip(window, clip, result.audio_rate, 0.0 if level is None else gain_db(*level, target_lufs))


class LiveDub:
    """One language's dub of a live run, written as an HLS audio rendition in ``folder`` by one ffmpeg fed
    the track as it is rendered. Call ``next_window`` as each window closes (its start is the slot's end of
    the one before), ``add`` with each window's answer in window order (None: it failed), ``advance`` when
    no window still to close can start before a time, and ``close`` with the stream's length (or ``abort``).
    ``stretch``: the stretch method of the ffmpeg in use (``dubber.media.stretch``).

    An ffmpeg that stops taking the track (it failed, or a terminal's Ctrl-C reached it too) is ``error``:
    nothing more is rendered, the captions go on, and ``close`` raises it; the caller decides whether the
    run fails (``dubber.jobs.live`` checks it as the stream goes on)."""

    def __init__(self, folder: Path, lang: str, segment_ms: int, stretch: str,
                 options: DubOptions = DubOptions()) -> None:
        self.lang, self.stretch, self.options = lang, stretch, options
        self.playlist = playlist_path(folder, lang)
        self._at = 0  # samples of the track rendered so far, from the stream's time 0
        self._skip = PRIMING
        self._waiting: DubClip | None = None
        self.error: ToolError | None = None
        with ExitStack() as opening:
            self._scratch = Path(opening.enter_context(tempfile.TemporaryDirectory(prefix="dubber-live-")))
            self._feed = opening.enter_context(FfmpegFeed(hls_args(folder, lang, segment_ms),
                                                          what=f"writing the {lang} dub", loglevel="error"))
            self._stack = opening.pop_all()

    @property
    def rendered_ms(self) -> int:
        """How far the track has been rendered (and handed to ffmpeg)."""
        return self._at // PER_MS

    def next_window(self, start_ms: int) -> None:
        """A window starting at ``start_ms`` has closed: the clip waiting for it is rendered, its slot known."""
        if self._waiting is not None:
            self._render(self._waiting, slot_end_ms(self._waiting.window, start_ms, self.options))
            self._waiting = None

    def add(self, window: Window, translation: Translation | None) -> None:
        """The next window's answer (None: it failed, and leaves silence), kept until its slot is known."""
        self.next_window(window.start_ms)
        waiting = dub_clip(window, translation, self.options.target_lufs)
        if translation is not None and translation.result.text and not len(waiting.samples):
            log.warning("%s: window %d: the service sent text but no speech; it is captioned, not dubbed",
                        self.lang, window.index)
        self._waiting = waiting

    def advance(self, frontier_ms: int) -> None:
        """No window still to close starts before ``frontier_ms``: the clip waiting is rendered if it fits
        before it at natural speed (later windows could not change that), and when nothing waits the track
        is rendered as far as ``frontier_ms``, so the rendition grows through a silence."""
        waiting = self._waiting
        bound = frontier_ms - self.options.fit.gap_ms
        if waiting is not None and self._start_ms(waiting.window) + waiting.length_ms <= bound:
            self._render(waiting, bound)
            self._waiting = None
        if self._waiting is None:
            self._silence_to(frontier_ms)

    def close(self, end_ms: int) -> None:
        """The stream ended at ``end_ms``: the last clip rendered, the track fed up to ``end_ms``, and the
        playlist ended."""
        try:
            if self._waiting is not None:
                self._render(self._waiting, min(end_ms, slot_end_ms(self._waiting.window, None, self.options)))
                self._waiting = None
            self._silence_to(end_ms)
            if self.error is None:
                self._feed.finish()
        finally:
            self._stack.close()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        """Stop ffmpeg and let go of everything (nothing more can be added); no-op after ``close``."""
        self._stack.close()

    def _start_ms(self, window: Window) -> int:
        # never before what is rendered: only a clip whose next window was not known could have run on
        return max(onset_ms(window), self.rendered_ms)

    def _render(self, waiting: DubClip, slot_end: int) -> None:
        if not len(waiting.samples) or self.error is not None:
            return
        placement = fit_clip(self._start_ms(waiting.window), waiting.length_ms, slot_end, self.options.fit)
        if placement is None:
            log.warning("%s: window %d: no room left for its dub", self.lang, waiting.window.index)
            return
        log.debug("%s: window %d dubbed at %d-%d ms, %.2fx, %d ms cut", self.lang, waiting.window.index,
                  placement.start_ms, placement.end_ms, placement.speed, placement.overflow_ms)
        samples = self._fitted(waiting, placement)
        self._silence_to(placement.start_ms)
        self._write(samples)

    def _fitted(self, waiting: DubClip, placement: Placement) -> np.ndarray:
        """The clip at DUB_RATE, sped up as placed, exactly as long as it plays, at its gain."""
        samples = waiting.samples
        if placement.speed != 1.0 or waiting.rate != DUB_RATE:
            src, dest = self._scratch / "clip.pcm", self._scratch / "stretched.pcm"
            samples.tofile(src)
            run_ffmpeg(stretch_args(src, waiting.rate, dest, DUB_RATE, placement.speed, self.stretch),
                       what=f"time-stretching the {self.lang} dub of window {waiting.window.index}")
            samples = np.fromfile(dest, dtype="<i2")
        fade = self.options.fit.fade_ms * PER_MS if placement.overflow_ms > 0 else 0
        fitted = fit_samples(samples, placement.played_ms * PER_MS, fade).astype(np.float64)
        return np.clip(np.round(fitted * 10 ** (waiting.gain_db / 20)), -32768, 32767).astype("<i2")

    def _silence_to(self, ms: int) -> None:
        end = ms * PER_MS
        while self._at < end and self.error is None:
            self._write(np.zeros(min(end - self._at, DUB_RATE), dtype="<i2"))  # a second at a time

    def _write(self, samples: np.ndarray) -> None:
        self._at += len(samples)
        skipped = min(self._skip, len(samples))
        self._skip -= skipped
        if len(samples) > skipped and self.error is None:
            try:
                self._feed.write(samples[skipped:].tobytes())
            except ToolError as exc:
                self.error = exc
