"""Translated speech → a fitted dub timeline (a pure plan).

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

A clip is one window's speech or, when the window holds several phrases, one *part* of it
(``dubber.dub.phrases``): each part has its own onset and is fitted like a clip.

Times are integer ms on the media's timeline; only ``speed`` is a float.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

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
    """One window's translated speech (or one part of it), its silence trimmed, before fitting."""

    index: int  # the window's index
    onset_ms: int  # where the window's speech (the part's phrase) starts in the original: the anchor
    length_ms: int  # at natural speed
    part: int = 0  # the part's number inside its window's clip
    offset_ms: int = 0  # where the part starts inside its window's clip (natural speed)
    # Where it should have ended (a subtitle cue's end, for a dub from text): it is sped up to end there,
    # and only what ``max_speed`` cannot fit runs on, into the silence before the next onset. None: the slot.
    end_ms: int | None = None


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
    part: int = 0  # as in ``Clip``: which part of the window's clip, and where it starts in that clip
    offset_ms: int = 0

    @property
    def played_ms(self) -> int:
        return self.end_ms - self.start_ms


def dubbed_speech(placement: Placement, clip_spans: Sequence[Span]) -> tuple[Span, ...]:
    """Where a placed clip's speech sounds on the timeline: its own speech spans (clip-local ms at natural
    speed; for a part, those inside it) sped up by the placement's factor, shifted to its start and cut at
    its end.

    >>> dubbed_speech(Placement(0, 1000, 2000, 2000, 1300, 1.3, 0), [Span(0, 520), Span(780, 1300)])
    (Span(start_ms=1000, end_ms=1400), Span(start_ms=1600, end_ms=2000))
    """
    spans = []
    first, last = placement.offset_ms, placement.offset_ms + placement.clip_ms
    for span in clip_spans:
        if span.end_ms <= first or span.start_ms >= last:
            continue
        start = placement.start_ms + round((max(span.start_ms, first) - first) / placement.speed)
        end = min(placement.end_ms, placement.start_ms + round((min(span.end_ms, last) - first) / placement.speed))
        if end > start:
            spans.append(Span(start, end))
    return tuple(spans) or (Span(placement.start_ms, placement.end_ms),)


def fit_timeline(clips: Sequence[Clip], duration_ms: int, options: FitOptions = FitOptions()) -> list[Placement]:
    """Fit ``clips`` onto a track of ``duration_ms`` (the rule in the module docstring). Clips of zero
    length get no placement; the rest come back in time order.

    >>> [(p.start_ms, p.end_ms, p.speed) for p in fit_timeline([Clip(0, 1000, 2400), Clip(1, 3000, 900)], 5000)]
    [(1000, 2890, 1.27), (3000, 3900, 1.0)]
    """
    voiced = sorted((c for c in clips if c.length_ms > 0), key=lambda c: (c.onset_ms, c.index, c.part))
    starts = [int(min(max(c.onset_ms, 0), duration_ms)) for c in voiced]
    ends = _slot_ends(starts, duration_ms, options.gap_ms)
    speeds = _shared_speeds(_needs(voiced, starts, ends), options)
    return [_place(c, start, end, speed) for c, start, end, speed in zip(voiced, starts, ends, speeds)]


def _needs(clips: Sequence[Clip], starts: Sequence[int], slot_ends: Sequence[int]) -> list[float]:
    """The speed each clip needs to end by its own end (``Clip.end_ms``) or, without one, its slot's."""
    needs = []
    for c, start, slot_end in zip(clips, starts, slot_ends):
        end = min(slot_end, c.end_ms) if c.end_ms is not None and c.end_ms > start else slot_end
        needs.append(c.length_ms / (end - start) if end > start else math.inf)
    return needs


def fit_among(pinned: Sequence[Placement], clips: Sequence[Clip], duration_ms: int,
              options: FitOptions = FitOptions()) -> list[Placement]:
    """Fit ``clips`` among placements that stay as they are (``pinned``: an edited dub keeps the speech of
    the lines nobody changed), by the rule in the module docstring: a pinned placement is an onset like
    any other, ending the slot before it, and keeps its start and speed; it is only cut when a clip now
    starts inside it. Clips sped up next to each other share a factor; a pinned placement breaks the run.

    >>> kept = Placement(0, 1000, 2000, 2900, 1000, 1.0, 0)
    >>> [(p.start_ms, p.end_ms, p.speed) for p in fit_among([kept], [Clip(1, 3000, 1300, end_ms=4000)], 9000)]
    [(1000, 2000, 1.0), (3000, 4000, 1.3)]
    """
    # in fit_timeline's order (onset, window, part), whichever kind each is
    entries = sorted([(min(max(p.start_ms, 0), duration_ms), 0, p) for p in pinned if p.played_ms > 0] +
                     [(int(min(max(c.onset_ms, 0), duration_ms)), 1, c) for c in clips if c.length_ms > 0],
                     key=lambda e: (e[0], e[2].index, e[2].part))
    starts = [start for start, _, _ in entries]
    ends = _slot_ends(starts, duration_ms, options.gap_ms)
    out: list[Placement] = []
    i = 0
    while i < len(entries):
        start, kind, item = entries[i]
        if kind == 0:  # pinned: as it was, unless its slot shrank under it
            out.append(item if item.end_ms <= ends[i] else _place(_clip_of(item), start, ends[i], item.speed))
            i += 1
            continue
        j = i
        while j < len(entries) and entries[j][1] == 1:
            j += 1
        run = [item for _, _, item in entries[i:j]]
        speeds = _shared_speeds(_needs(run, starts[i:j], ends[i:j]), options)
        out += [_place(c, start, end, speed) for c, start, end, speed in zip(run, starts[i:j], ends[i:j], speeds)]
        i = j
    return out


def _clip_of(placement: Placement) -> Clip:
    return Clip(placement.index, placement.start_ms, placement.clip_ms, placement.part, placement.offset_ms)


def settled_placements(clips: Sequence[Clip], duration_ms: int, options: FitOptions,
                       horizon_ms: int | None) -> list[Placement]:
    """The placements of ``clips`` that no clip still to come can change, when every clip to come has its
    onset at ``horizon_ms`` or later (None: none is to come): a prefix of ``fit_timeline``'s placements for all the clips, so a dub
    can be rendered (and encoded) front to back while later windows are still being translated.

    Only a clip's slot looks ahead, to the next onset; so the last known clip, whose next onset is unknown,
    is unsettled, and so is the run of sped-up clips just before it, which may share its factor (rule 3).
    A clip that plays at natural speed ends every run, so everything before it is settled.

    >>> [p.start_ms for p in settled_placements([Clip(0, 0, 900), Clip(1, 1000, 900), Clip(2, 2000, 900)],
    ...                                         60_000, FitOptions(), 3000)]
    [0, 1000]
    """
    placements = fit_timeline(clips, duration_ms, options)
    if horizon_ms is None or not placements:
        return placements
    last = len(placements) - 1
    while last > 0 and placements[last - 1].speed > 1.0:
        last -= 1
    return placements[:last]


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
    return Placement(clip.index, start, start + played, slot_end, int(clip.length_ms), speed, int(overflow),
                     clip.part, clip.offset_ms)
