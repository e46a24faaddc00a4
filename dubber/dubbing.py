"""Translated speech → a fitted dub timeline (a pure plan), plus the pure sample maths rendering needs.

The timeline rule, in order:

1. **Anchor.** Each clip starts exactly at its window's speech onset in the original. Starts never
   depend on where the previous clip ended, so a long clip can never push the rest of the track late.
2. **Slot.** A clip may run until the next clip's onset minus ``gap_ms`` (the last one: the end of the
   media). The slot therefore borrows all the silence after the original speech before anything is
   sped up.
3. **Speed.** A clip longer than its slot is sped up (pitch-preserving, by the renderer) just enough to
   fit, never beyond ``max_speed``. Neighbouring clips that both need a speed-up (they are back to back
   in the dub) share one factor, the largest of them, so the voice does not lurch between speeds. A clip
   that fits plays at natural speed.
4. **Overflow.** What still does not fit at ``max_speed`` is cut at the slot's end with a short fade and
   reported as ``overflow_ms`` (natural-speed speech lost). Nothing is ever shifted past the next clip's
   onset, so clips never overlap and the anchoring of every later clip holds.

Times are integer ms on the media's timeline; only ``speed`` is a float.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from dubber.errors import OptionError
from dubber.models import Span


@dataclass(frozen=True)
class FitOptions:
    """``max_speed=1.3``: beyond about 1.3x, sped-up speech starts to sound hurried. ``gap_ms=100``: a
    breath between two dubbed clips. ``speed_step``: factors are rounded up to this, ffmpeg's precision
    being far finer than anyone can hear. ``fade_ms``: the fade-out on a clip cut at its slot's end."""

    max_speed: float = 1.3
    gap_ms: int = 100
    speed_step: float = 0.01
    fade_ms: int = 40

    def __post_init__(self) -> None:
        if not 1.0 <= self.max_speed <= 2.0:
            raise OptionError(f"--max-speed must be between 1.0 and 2.0, not {self.max_speed}")
        if self.gap_ms < 0 or self.fade_ms < 0 or self.speed_step <= 0:
            raise OptionError("gap and fade must not be negative, the speed step must be positive")


@dataclass(frozen=True)
class Clip:
    """One window's translated speech, its silence trimmed, before fitting."""

    index: int  # the window's index
    onset_ms: int  # where the window's speech starts in the original: the clip's anchor
    length_ms: int  # at natural speed


@dataclass(frozen=True)
class Placement:
    """Where a clip plays: from ``start_ms`` (= its onset) for ``end_ms - start_ms``, at ``speed``."""

    index: int
    start_ms: int
    end_ms: int
    slot_end_ms: int  # the latest it may end
    clip_ms: int  # natural length
    speed: float  # 1.0, or the tempo factor applied
    overflow_ms: int  # natural-speed ms cut off because even max_speed did not fit

    @property
    def played_ms(self) -> int:
        return self.end_ms - self.start_ms


def dubbed_speech(placement: Placement, clip_spans: Sequence[Span]) -> tuple[Span, ...]:
    """Where a placed clip's speech sounds on the timeline: its own speech spans (clip-local ms at natural
    speed) sped up by the placement's factor, shifted to its start and cut at its end.

    >>> dubbed_speech(Placement(0, 1000, 2000, 2000, 1300, 1.3, 0), [Span(0, 520), Span(780, 1300)])
    (Span(start_ms=1000, end_ms=1400), Span(start_ms=1600, end_ms=2000))
    """
    spans = []
    for span in clip_spans:
        start = placement.start_ms + round(span.start_ms / placement.speed)
        end = min(placement.end_ms, placement.start_ms + round(span.end_ms / placement.speed))
        if end > start:
            spans.append(Span(start, end))
    return tuple(spans) or (Span(placement.start_ms, placement.end_ms),)


def fit_timeline(clips: Sequence[Clip], duration_ms: int, options: FitOptions = FitOptions()) -> list[Placement]:
    """Fit ``clips`` onto a track of ``duration_ms`` (the rule in the module docstring). Clips of zero
    length get no placement; the rest come back in time order.

    >>> [(p.start_ms, p.end_ms, p.speed) for p in fit_timeline([Clip(0, 1000, 2400), Clip(1, 3000, 900)], 5000)]
    [(1000, 2890, 1.27), (3000, 3900, 1.0)]
    """
    voiced = sorted((c for c in clips if c.length_ms > 0), key=lambda c: (c.onset_ms, c.index))
    starts = [int(min(max(c.onset_ms, 0), duration_ms)) for c in voiced]
    ends = _slot_ends(starts, duration_ms, options.gap_ms)
    needs = [c.length_ms / (end - start) if end > start else math.inf
             for c, start, end in zip(voiced, starts, ends)]
    speeds = _shared_speeds(needs, options)
    return [_place(c, start, end, speed) for c, start, end, speed in zip(voiced, starts, ends, speeds)]


def _slot_ends(starts: list[int], duration_ms: int, gap_ms: int) -> list[int]:
    ends = []
    for i, start in enumerate(starts):
        limit = starts[i + 1] - gap_ms if i + 1 < len(starts) else duration_ms
        ends.append(max(start, min(limit, duration_ms)))
    return ends


def _round_up(value: float, step: float) -> float:
    return round(math.ceil(value / step - 1e-9) * step, 6)


def _shared_speeds(needs: list[float], options: FitOptions) -> list[float]:
    """1.0 for clips that fit; one factor per run of neighbouring clips that do not (the run's largest
    need, rounded up, capped)."""
    speeds = [1.0] * len(needs)
    i = 0
    while i < len(needs):
        if needs[i] <= 1.0:
            i += 1
            continue
        j = i
        while j < len(needs) and needs[j] > 1.0:
            j += 1
        need = min(max(needs[i:j]), options.max_speed)
        shared = min(options.max_speed, max(need, _round_up(need, options.speed_step)))
        speeds[i:j] = [shared] * (j - i)
        i = j
    return speeds


def _place(clip: Clip, start: int, slot_end: int, speed: float) -> Placement:
    wanted = math.ceil(clip.length_ms / speed - 1e-9)
    played = min(wanted, slot_end - start)
    overflow = clip.length_ms - min(clip.length_ms, math.floor(played * speed)) if played < wanted else 0
    return Placement(clip.index, start, start + played, slot_end, int(clip.length_ms), speed, int(overflow))


# --- ducking: where the original is lowered under the dub -------------------------------------------


@dataclass(frozen=True)
class DuckOptions:
    """``depth_db=15``: the issue asks for at least 12 dB; 15 leaves margin yet keeps music and effects
    clearly audible. The ramp down ends as the dub starts, so its first syllable is never masked. Dub
    clips closer than the two ramps plus ``hold_ms`` share one duck: the bed does not pump between them."""

    depth_db: float = 15.0
    attack_ms: int = 150
    release_ms: int = 300
    hold_ms: int = 400


def duck_spans(placements: Sequence[Placement], options: DuckOptions = DuckOptions()) -> list[Span]:
    """The spans over which the original is fully ducked: the dub's played spans, joined across short gaps."""
    join_below = options.attack_ms + options.release_ms + options.hold_ms
    spans: list[Span] = []
    for p in sorted(placements, key=lambda p: p.start_ms):
        if p.end_ms <= p.start_ms:
            continue
        if spans and p.start_ms - spans[-1].end_ms < join_below:
            spans[-1] = Span(spans[-1].start_ms, max(spans[-1].end_ms, p.end_ms))
        else:
            spans.append(Span(p.start_ms, p.end_ms))
    return spans


def envelope_chunks(spans: Sequence[Span], total_ms: int, options: DuckOptions = DuckOptions(),
                    chunk_ms: int = 60000) -> Iterator[np.ndarray]:
    """The original's gain, one float32 value per ms for ``[0, total_ms)``, in chunks (so an hour needs no
    hour-long array): 1.0 outside the spans, ``-depth_db`` inside, ramping linearly in dB around them."""
    for first in range(0, max(total_ms, 0), chunk_ms):
        t = np.arange(first, min(first + chunk_ms, total_ms), dtype=np.float64)
        depth = np.zeros(len(t))
        for span in spans:
            if span.start_ms - options.attack_ms > t[-1] or span.end_ms + options.release_ms < t[0]:
                continue
            down = (t - (span.start_ms - options.attack_ms)) / max(options.attack_ms, 1)
            up = ((span.end_ms + options.release_ms) - t) / max(options.release_ms, 1)
            depth = np.maximum(depth, np.clip(np.minimum(down, up), 0.0, 1.0))
        yield (10 ** (-options.depth_db * depth / 20)).astype("<f4")


# --- sample maths on one clip ------------------------------------------------------------------------


def voiced_bounds(samples: np.ndarray, rate: int, floor_db: float = -50.0, below_peak_db: float = 40.0,
                  frame_ms: int = 10, margin_ms: int = 10) -> tuple[int, int]:
    """``(first, end)`` sample indices of a clip's sound: its leading and trailing silence trimmed.

    A 10 ms frame is sound when louder than ``floor_db`` dBFS and no more than ``below_peak_db`` under the
    clip's loudest frame; ``margin_ms`` is kept either side so soft consonants are not clipped.
    """
    frame = max(1, rate * frame_ms // 1000)
    count = math.ceil(len(samples) / frame)
    if count == 0:
        return 0, 0
    padded = np.zeros(count * frame)
    padded[:len(samples)] = samples
    rms = np.sqrt(np.mean((padded.reshape(count, frame) / 32768.0) ** 2, axis=1))
    level = 20 * np.log10(np.maximum(rms, 1e-10))
    loud = np.flatnonzero(level >= max(floor_db, level.max() - below_peak_db))
    if level.max() < floor_db or len(loud) == 0:
        return 0, 0
    margin = rate * margin_ms // 1000
    return max(0, loud[0] * frame - margin), min(len(samples), (loud[-1] + 1) * frame + margin)


def fit_samples(samples: np.ndarray, count: int, fade: int = 0) -> np.ndarray:
    """Exactly ``count`` int16 samples: ``samples`` padded with silence, or cut, ending in a ``fade``-sample
    fade-out (pass 0 when the cut only trims a time stretch's rounding)."""
    if len(samples) <= count:
        return np.concatenate([samples, np.zeros(count - len(samples), dtype=samples.dtype)]).astype("<i2")
    out = samples[:count].astype(np.float64)
    n = min(fade, count)
    if n > 0:
        out[count - n:] *= np.linspace(1.0, 0.0, n)
    return np.round(out).astype("<i2")
