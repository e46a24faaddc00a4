"""Streaming speech detection for a live source: each window closed as soon as the speech allows (pure
and stateful: audio in, closed windows out; no clock, no IO).

A 20 ms frame is *voiced* when its level is over an absolute floor and ``margin_db`` over the noise floor,
the ``floor_percentile`` of the last ``floor_window_ms`` of frame levels (the past only: a stream has no
future to look at). Speech starts at the first of ``start_frames`` voiced frames within twice as many
(a lone click starts nothing). An open window closes, in this order of preference:

1. at a **pause** of ``pause_ms``: the speaker stopped;
2. once it is ``min_ms`` long, at a **dip** between words: a frame ``dip_db`` under the window's loud
   frames (its ``loud_percentile``). In continuous speech a caption must not wait for a pause that may
   not come, and synthetic or close-miked speech has few silent word gaps: this is what keeps the latency
   of a talk without pauses near that of one with them;
3. at ``max_ms``, wherever it is (the stream must go on).

A window runs from ``pad_ms`` before its first voiced frame to ``pad_ms`` after its last one, never
before the previous window's end; its audio is kept until it closes, and nothing else is (memory is one
window's audio, however long the stream).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from dubber.models import Span, Window

RATE = 16000
FRAME_MS = 20
FRAME = RATE * FRAME_MS // 1000


@dataclass(frozen=True)
class CutOptions:
    pause_ms: int = 300
    # measured on talks without pauses (benchmarks/live_latency.py): a window closes 0.5 s after an
    # utterance's end at the median, 1.1 s at worst, and holds about 1.25 s of speech
    min_ms: int = 1000
    dip_db: float = 20.0
    loud_percentile: float = 90.0
    max_ms: int = 6000
    pad_ms: int = 100
    start_frames: int = 3
    margin_db: float = 10.0
    floor_db: float = -50.0  # never speech below this (dBFS)
    floor_window_ms: int = 10_000
    floor_percentile: float = 10.0


@dataclass(frozen=True)
class Closed:
    """A closed window and its audio (PCM16 mono at RATE, from the window's start)."""

    window: Window
    samples: np.ndarray


@dataclass
class _Open:
    start_ms: int  # the window's start (padded)
    first_voiced_ms: int
    last_voiced_ms: int  # the end of the last voiced frame
    audio: list[np.ndarray] = field(default_factory=list)
    levels: list[float] = field(default_factory=list)  # its voiced frames' levels (dB)


class Cutter:
    """Feed it PCM16 (``feed``): it returns the windows that closed. ``flush`` at the stream's end."""

    def __init__(self, options: CutOptions = CutOptions()) -> None:
        self.options = options
        self.position_ms = 0  # the end of the audio fed so far
        self._index = 0
        self._levels: deque[float] = deque(maxlen=max(1, options.floor_window_ms // FRAME_MS))
        self._recent: deque[tuple[bool, np.ndarray]] = deque(maxlen=max(2 * options.start_frames, options.pad_ms // FRAME_MS + 1))
        self._open: _Open | None = None
        self._last_end_ms = 0
        self._partial = np.zeros(0, dtype=np.int16)

    @property
    def speaking(self) -> bool:
        return self._open is not None

    def settled_ms(self) -> int:
        """No window still to close starts before this: the open window's start, else the audio's end
        less the pad a window starts with."""
        return self._open.start_ms if self._open else max(self._last_end_ms, self.position_ms - self.options.pad_ms)

    def feed(self, pcm: bytes | np.ndarray) -> list[Closed]:
        samples = np.frombuffer(pcm, dtype="<i2") if isinstance(pcm, (bytes, bytearray)) else pcm
        samples = np.concatenate([self._partial, samples]) if len(self._partial) else samples
        whole = len(samples) - len(samples) % FRAME
        self._partial = samples[whole:].copy()
        closed = []
        for k in range(0, whole, FRAME):
            done = self._frame(samples[k:k + FRAME])
            if done is not None:
                closed.append(done)
        return closed

    def flush(self) -> list[Closed]:
        """The stream ended: the open window closes at the last voiced frame."""
        if self._open is None:
            return []
        return [self._close(self._open.last_voiced_ms)]

    def _level(self, frame: np.ndarray) -> tuple[float, bool]:
        """The frame's level (dBFS), and whether it is voiced (against the past's noise floor)."""
        rms = float(np.sqrt(np.mean((frame.astype(np.float64) / 32768.0) ** 2)))
        level = 20 * np.log10(max(rms, 1e-10))
        floor = float(np.percentile(self._levels, self.options.floor_percentile)) if self._levels else -100.0
        self._levels.append(level)
        return level, level > max(self.options.floor_db, floor + self.options.margin_db)

    def _dip(self, level: float) -> bool:
        """Whether a frame of the open window is a dip between words (rule 2)."""
        o, levels = self.options, self._open.levels
        return len(levels) >= 5 and level < float(np.percentile(levels, o.loud_percentile)) - o.dip_db

    def _frame(self, frame: np.ndarray) -> Closed | None:
        o = self.options
        start = self.position_ms
        self.position_ms += FRAME_MS
        level, voiced = self._level(frame)
        self._recent.append((voiced, frame))
        if self._open is None:
            if voiced and sum(v for v, _ in list(self._recent)[-2 * o.start_frames:]) >= o.start_frames:
                self._begin(start)
            return None
        self._open.audio.append(frame)
        length = self.position_ms - self._open.start_ms
        if length >= o.min_ms and self._dip(level):
            return self._close(self.position_ms - FRAME_MS // 2)
        if voiced:
            self._open.last_voiced_ms = self.position_ms
            self._open.levels.append(level)
            if self.position_ms - self._open.start_ms >= o.max_ms:
                return self._close(self.position_ms)
            return None
        if self.position_ms - self._open.last_voiced_ms >= o.pause_ms or length >= o.max_ms:
            return self._close(min(self.position_ms, self._open.last_voiced_ms + o.pad_ms))
        return None

    def _begin(self, frame_start_ms: int) -> None:
        """Open a window at the first voiced frame of the recent run, with the pad before it."""
        recent = list(self._recent)
        first = len(recent) - 1
        while first > 0 and recent[first - 1][0]:
            first -= 1
        first_ms = frame_start_ms - (len(recent) - 1 - first) * FRAME_MS
        while first_ms < self._last_end_ms:  # frames the previous window already holds
            first, first_ms = first + 1, first_ms + FRAME_MS
        pad_frames = min(first, self.options.pad_ms // FRAME_MS, max(0, (first_ms - self._last_end_ms) // FRAME_MS))
        start_ms = first_ms - pad_frames * FRAME_MS
        audio = [f for _, f in recent[first - pad_frames:]]
        self._open = _Open(start_ms, first_ms, frame_start_ms + FRAME_MS, audio)

    def _close(self, end_ms: int) -> Closed:
        o = self._open
        assert o is not None
        samples = np.concatenate(o.audio) if o.audio else np.zeros(0, dtype=np.int16)
        samples = samples[:max(0, (end_ms - o.start_ms) * RATE // 1000)]
        window = Window(self._index, o.start_ms, end_ms, (Span(o.first_voiced_ms, max(o.first_voiced_ms, min(end_ms, o.last_voiced_ms))),))
        self._index += 1
        self._last_end_ms = end_ms
        self._open = None
        return Closed(window, samples)
