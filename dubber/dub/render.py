"""Render the fitted timeline, front to back, as the encoder's feed: the dub track and the original's gain.

Memory stays bounded by one clip: each window's speech was spooled to its own file as it arrived, and
the track is handed over as soon as it is final, silence and clips in turn. A placement of one part of
a window's clip reads only that part's samples from the window's file. Time stretching runs ffmpeg once
per sped-up part, with the run's stretch method (``dubber.media.stretch``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from dubber.dub.clips import ClipSpool, Spooled, fit_samples
from dubber.dub.duck import DuckOptions, add_span, envelope, settled_ms
from dubber.dub.timeline import Placement
from dubber.media.loudness import gain_db
from dubber.media.stretch import stretch_args
from dubber.media.tool import run_ffmpeg
from dubber.models import Span

DUB_RATE = 24000  # Hz: the service's speech rate; the track is rendered at it, the mux pass resamples
PER_MS = DUB_RATE // 1000


def part_range(placement: Placement, rate: int, total: int) -> tuple[int, int]:
    """The ``[first, end)`` samples of a placed part in its window's clip of ``total`` samples at ``rate``.

    >>> part_range(Placement(0, 0, 500, 500, 500, 1.0, 0, 1, 700), 24000, 60000)
    (16800, 28800)
    """
    first = min(total, placement.offset_ms * rate // 1000)
    return first, min(total, first + -(-placement.clip_ms * rate // 1000))


def _part_samples(placement: Placement, spooled: Spooled) -> np.ndarray:
    first, end = part_range(placement, spooled.rate, spooled.path.stat().st_size // 2)
    return np.fromfile(spooled.path, dtype="<i2", count=end - first, offset=2 * first)


def _clip_samples(placement: Placement, spooled: Spooled, scratch: Path, fade_ms: int, stretch: str) -> np.ndarray:
    samples = _part_samples(placement, spooled)
    if placement.speed != 1.0 or spooled.rate != DUB_RATE:
        part = scratch.with_name("part.pcm")
        samples.tofile(part)
        run_ffmpeg(stretch_args(part, spooled.rate, scratch, DUB_RATE, placement.speed, stretch),
                   what=f"time-stretching clip {placement.index} part {placement.part}")
        samples = np.fromfile(scratch, dtype="<i2")
    fade = fade_ms * PER_MS if placement.overflow_ms > 0 else 0
    return _edged(fit_samples(samples, placement.played_ms * PER_MS, fade))


EDGE_MS = 3  # a part may be cut inside a word (dubber.dub.phrases): ramped in and out, it does not click


def _edged(samples: np.ndarray) -> np.ndarray:
    """``samples`` with ``EDGE_MS`` ramps at both ends (silence at a pause's edge is left as it is)."""
    n = min(EDGE_MS * PER_MS, len(samples) // 2)
    if n == 0:
        return samples
    out = samples.astype(np.float64)
    ramp = np.linspace(0.0, 1.0, n + 1)[1:]
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return np.round(out).astype("<i2")


class TrackRender:
    """The dub track and the original's gain under it, rendered front to back while the dub's windows are
    still being translated: ``add`` each settled placement in time order, and ``take`` what is finished as
    float32 frames of two channels at DUB_RATE (the dub, and the original's gain: the duck envelope, or 0 to
    replace it), the encoder's feed.

    Each window's clip is brought to the original's loudness (``target_lufs()``, asked for at the first clip:
    the original may still be being measured; None: R128's -23) with a gain
    of its own, measured as it arrived, under a sample-peak ceiling (``dubber.media.loudness.gain_db``):
    the track's loudness must be fixed before its first frame is encoded, and a clip's own level is the one
    thing known then. Memory holds one clip and what is placed but not yet taken."""

    def __init__(self, spool: ClipSpool, fade_ms: int, stretch: str, duck: DuckOptions | None,
                 target_lufs: Callable[[], float | None]) -> None:
        self.spool, self.fade_ms, self.stretch, self.duck = spool, fade_ms, stretch, duck
        self._target_lufs = target_lufs
        self.taken_ms = 0
        self._dub = np.zeros(0, dtype=np.float32)  # placed samples from taken_ms on
        self._spans: list[Span] = []  # the duck spans of the placements so far (the last one may still grow)
        self._scratch = spool.folder / "stretched.pcm"

    def add(self, placement: Placement) -> Iterator[bytes]:
        """Add the next settled placement (in time order): first hand over the track as far as it is final
        before it, then place its clip."""
        yield from self.take(self.finished_ms(placement.start_ms))
        self.place(placement)

    def place(self, placement: Placement) -> None:
        """Add ``placement``'s clip to the track; placements come in time order, none before ``taken_ms``."""
        if placement.start_ms < self.taken_ms:
            raise ValueError(f"clip {placement.index} at {placement.start_ms} ms is before the track's "
                             f"finished part ({self.taken_ms} ms)")
        if placement.played_ms <= 0:
            return
        spooled = self.spool.clips[placement.index]
        samples = _clip_samples(placement, spooled, self._scratch, self.fade_ms, self.stretch)
        gain = 0.0 if spooled.level is None else gain_db(*spooled.level, self._target_lufs())
        first = (placement.start_ms - self.taken_ms) * PER_MS
        if len(self._dub) < first + len(samples):
            self._dub = np.concatenate([self._dub, np.zeros(first + len(samples) - len(self._dub), np.float32)])
        self._dub[first:first + len(samples)] = samples * np.float32(10 ** (gain / 20) / 32768)
        if self.duck is not None:
            add_span(self._spans, placement, self.duck)

    def finished_ms(self, next_start_ms: int) -> int:
        """How far the track is final when no clip still to come starts before ``next_start_ms``."""
        return next_start_ms if self.duck is None else settled_ms(next_start_ms, self.duck)

    def take(self, end_ms: int, chunk_ms: int = 10_000) -> Iterator[bytes]:
        """The track from ``taken_ms`` to ``end_ms`` (nothing when that is behind it), ``chunk_ms`` at a time."""
        while self.taken_ms < end_ms:
            upto = min(end_ms, self.taken_ms + chunk_ms)
            count = (upto - self.taken_ms) * PER_MS
            frames = np.zeros((count, 2), dtype="<f4")
            dub, self._dub = self._dub[:count], self._dub[count:]
            frames[:len(dub), 0] = dub
            if self.duck is not None:
                frames[:, 1] = np.repeat(envelope(self._spans, self.taken_ms, upto, self.duck), PER_MS)
                # spans that end before what is left cannot reach it again (their release has passed)
                self._spans = [s for s in self._spans[:-1] if s.end_ms + self.duck.release_ms >= upto] + self._spans[-1:]
            self.taken_ms = upto
            yield frames.tobytes()
