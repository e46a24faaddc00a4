"""A window's dubbed speech, split at its own pauses and laid on the window's utterances (a pure plan).

The service answers one clip of speech per window, with no timestamps inside it. Played as one piece
from the window's first onset, a clip that runs short leaves the window's later utterances with no dub
over them, and one that runs long speaks over the next utterance's start. So the clip is cut into
*parts*, one per utterance, and each part is anchored at its utterance's onset (then fitted to its own
slot by ``fit_timeline`` like any clip). The rule:

1. **Utterances** are the window's speech spans as the detector found them (it already keeps pauses
   under its hangover, ~300 ms, inside one span). They are not the subtitles' phrases: those join a
   phrase too short to read with the next one, and a part anchored at the first of two joined
   utterances runs out before the second (the clip is about as long as the speech, the phrase also
   holds the pause). Every phrase starts with an utterance, so every cue that starts a phrase still has
   a dub part starting with it.
2. **Cut points** are the clip's pauses (the silences between its voiced runs, found once as the clip
   arrives: ``dubber.dub.clips.voiced_runs``), so a part ends between words of the dub wherever it can.
3. **Shares.** The clip's speech (from its first to its last voiced run) is shared between the
   utterances in proportion to each one's duration, as ``share_text`` shares the text; the boundary
   after utterance *j* falls at its share's end. Each boundary takes the pause nearest it, measured to
   the pause's nearer edge (a boundary inside a pause takes that pause), so a long pause between two
   dubbed sentences wins over a word gap a little closer. Boundaries are taken in order and each leaves
   enough pauses for the ones after it, so parts stay in order and, with at least as many voiced runs
   as utterances (which rule 4 sees to), **every utterance gets a part**.
4. **Soft cuts.** A boundary with no pause left for it (the clip has fewer voiced runs than the window
   has utterances), or whose pause lies further from it than its *slack* (``SLACK``, a quarter, of the
   shorter of its two shares: so a part keeps at least half its share wherever the clip can be cut
   near its boundaries), cuts a voiced run instead: the run holding it (else the nearest one long
   enough), at the run's quietest frame (``levels``) within the slack (at most ``REACH_MS``) of the
   boundary and at least ``EDGE_MS`` from the run's ends. Cuts are added first until there is a run per
   utterance, then once per boundary whose pause is too far (when the cut lands nearer); rule 3 then
   matches boundaries with pauses and cuts alike. A cut is a point: no sound is lost. Only a clip too
   short to cut often enough (its runs all under ``2 * EDGE_MS``) leaves an utterance with no part of
   its own; it then lies inside the slot of the part before it, as a window's later utterances did
   before the split.
5. A part runs from its first voiced run's start to its last one's end; the pause audio between two
   parts is dropped (the gap before each onset and the silence in the original take its place). The
   first part starts at the clip's start and the last ends at its end, so **a window with one
   utterance gives one part, the whole clip, exactly as before.**

Times in ``Span``s of the clip are clip-local ms at natural speed; onsets are on the media's timeline.
"""
from __future__ import annotations

from typing import Callable, Sequence

from dubber.dub.timeline import Clip
from dubber.models import Span, Window

FRAME_MS = 10  # the frames of a clip's ``levels``
EDGE_MS = 100  # a soft cut leaves this much of its run either side: never a sliver of a syllable
# How far a boundary may move, as a share of the shorter of the two shares either side of it: to a
# pause (further, a cut inside a word does less harm), or to a soft cut's quiet frame. Both boundaries of
# a share may move, so a part keeps at least half its share wherever the clip can be cut near them.
SLACK = 0.25
REACH_MS = 250  # ... but a soft cut looks no further than this for its quiet frame: a syllable either side


def window_parts(window: Window, length_ms: int, runs: Sequence[Span],
                 levels: Sequence[float] = ()) -> tuple[Clip, ...]:
    """The parts of ``window``'s dubbed clip (``length_ms`` long, voiced in ``runs``, its loudness per
    ``FRAME_MS`` frame in ``levels``) on its utterances."""
    # nothing detected inside (never planned so, but a window is still a window): one utterance
    speech = window.speech or (Span(window.start_ms, window.end_ms),)
    return split_clip(window.index, length_ms, runs, speech, levels)


def split_clip(index: int, length_ms: int, runs: Sequence[Span], speech: Sequence[Span],
               levels: Sequence[float] = ()) -> tuple[Clip, ...]:
    """Cut a clip of ``length_ms`` with voiced ``runs`` (sorted, disjoint, inside the clip) into parts on
    the utterances ``speech`` (sorted, disjoint spans of the original); the rule is in the module
    docstring. ``levels`` (dB per ``FRAME_MS`` frame of the clip) choose where a soft cut falls; without
    them it falls on its boundary.

    >>> parts = split_clip(3, 2000, [Span(0, 600), Span(700, 1300), Span(1400, 2000)],
    ...                    [Span(1000, 1500), Span(3000, 4000)])
    >>> [(p.index, p.part, p.onset_ms, p.offset_ms, p.length_ms) for p in parts]
    [(3, 0, 1000, 0, 600), (3, 1, 3000, 700, 1300)]
    >>> [(p.onset_ms, p.offset_ms, p.length_ms)  # one run for two utterances: a soft cut
    ...  for p in split_clip(3, 1500, [Span(0, 1500)], [Span(1000, 1500), Span(3000, 4000)])]
    [(1000, 0, 500), (3000, 500, 1000)]
    """
    runs = [r for r in runs if r.end_ms > r.start_ms] or [Span(0, length_ms)]
    targets = _share_ends(runs[0].start_ms, runs[-1].end_ms, [s.duration_ms for s in speech])
    runs = with_soft_cuts(runs, targets, levels)
    cuts = _match(_pauses(runs), targets)  # (pause k, boundary j): the part after run k starts utterance j + 1
    firsts = [0] + [k + 1 for k, _ in cuts]
    lasts = [k for k, _ in cuts] + [len(runs) - 1]
    onsets = [speech[0].start_ms] + [speech[j + 1].start_ms for _, j in cuts]
    parts = []
    for part, (first, last, onset) in enumerate(zip(firsts, lasts, onsets)):
        start = 0 if part == 0 else runs[first].start_ms
        end = length_ms if last == len(runs) - 1 else runs[last].end_ms
        parts.append(Clip(index, onset, end - start, part, start))
    return tuple(parts)


def with_soft_cuts(runs: Sequence[Span], targets: Sequence[float],
                   levels: Sequence[float] = ()) -> list[Span]:
    """``runs`` cut inside words (rule 4): first until there is one more run than share boundaries
    (``targets``), or no run is long enough to cut; then once for each boundary whose pause is too far
    from it, where a cut lands nearer. A cut splits a run into two that touch (an empty pause).

    Two runs for three utterances: the boundary without a pause cuts at the quiet frame (250-260 ms) near it.

    >>> levels = [-20.0] * 25 + [-40.0] + [-20.0] * 114
    >>> with_soft_cuts([Span(0, 900), Span(1000, 1400)], [300.0, 950.0], levels)
    [Span(start_ms=0, end_ms=255), Span(start_ms=255, end_ms=900), Span(start_ms=1000, end_ms=1400)]

    Shares of 1500 and 800 ms: the pause 500 ms from their boundary is beyond its slack (200 ms).

    >>> with_soft_cuts([Span(0, 2000), Span(2100, 2300)], [1500.0])
    [Span(start_ms=0, end_ms=1500), Span(start_ms=1500, end_ms=2000), Span(start_ms=2100, end_ms=2300)]
    """
    runs = list(runs)
    slacks = _slacks(runs[0].start_ms, runs[-1].end_ms, targets)
    while len(runs) <= len(targets):  # a boundary has no pause at all: any cut will do
        taken = {j for _, j in _match(_pauses(runs), targets)}
        j = next(j for j in range(len(targets)) if j not in taken)
        cut = _cut_near(runs, targets[j], slacks[j], levels)
        if cut is None:
            return runs
        _split(runs, *cut)
    tried: set[int] = set()
    while (far := _far_boundary(runs, targets, slacks, tried)) is not None:
        j, distance = far
        tried.add(j)
        cut = _cut_near(runs, targets[j], slacks[j], levels)
        if cut is not None and abs(cut[1] - targets[j]) < distance:
            _split(runs, *cut)
    return runs


def _slacks(start_ms: int, end_ms: int, targets: Sequence[float]) -> list[float]:
    """How far each boundary may move: ``SLACK`` of the shorter of the two shares either side of it."""
    edges = [start_ms, *targets, end_ms]
    return [SLACK * min(b - a, c - b) for a, b, c in zip(edges, edges[1:], edges[2:])]


def _split(runs: list[Span], k: int, at: int) -> None:
    runs[k:k + 1] = [Span(runs[k].start_ms, at), Span(at, runs[k].end_ms)]


def _far_boundary(runs: Sequence[Span], targets: Sequence[float], slacks: Sequence[float],
                  tried: set[int]) -> tuple[int, float] | None:
    """The boundary not ``tried`` yet whose pause (every boundary has one) lies furthest beyond its slack,
    and how far from it the pause lies; None when every pause is near enough."""
    pauses = _pauses(runs)
    worst, worst_excess = None, 0.0
    for k, j in _match(pauses, targets):
        distance = _distance(pauses[k], targets[j])
        if j not in tried and distance - slacks[j] > worst_excess:
            worst, worst_excess = (j, distance), distance - slacks[j]
    return worst


def _cut_near(runs: Sequence[Span], target: float, slack: float,
              levels: Sequence[float]) -> tuple[int, int] | None:
    """``(run, ms)``: where to cut for a share boundary at ``target`` (rule 4): at the quietest frame within
    ``slack`` (at most ``REACH_MS``) of it; None when no run is long enough to leave ``EDGE_MS`` either
    side of a frame."""
    inner = [(k, r.start_ms + EDGE_MS, r.end_ms - EDGE_MS) for k, r in enumerate(runs)
             if r.duration_ms >= 2 * EDGE_MS + FRAME_MS]
    if not inner:
        return None
    k, low, high = min(inner, key=lambda run: _distance(Span(run[1], run[2]), target))
    centre, reach = min(max(target, low), high), min(slack, REACH_MS)
    return k, _quietest(levels, max(low, centre - reach), min(high, centre + reach), centre)


def _quietest(levels: Sequence[float], low: float, high: float, centre: float) -> int:
    """The middle of the quietest frame whose middle lies in ``[low, high]`` (ties: the nearest
    ``centre``); ``centre`` itself when ``levels`` say nothing there."""
    half = FRAME_MS // 2
    frames = [i for i in range(int(low) // FRAME_MS, int(high) // FRAME_MS + 1)
              if i < len(levels) and low <= i * FRAME_MS + half <= high]
    if not frames:
        return round(centre)
    best = min(frames, key=lambda i: (levels[i], abs(i * FRAME_MS + half - centre)))
    return best * FRAME_MS + half


def _pauses(runs: Sequence[Span]) -> list[Span]:
    return [Span(a.end_ms, b.start_ms) for a, b in zip(runs, runs[1:])]


def _share_ends(start_ms: int, end_ms: int, weights: Sequence[int]) -> list[float]:
    """Where in ``[start_ms, end_ms)`` each share but the last ends, shares in proportion to ``weights``
    (equal shares when the weights are all zero)."""
    total = sum(weights)
    shares = list(weights) if total > 0 else [1] * len(weights)
    total = sum(shares)
    ends, done = [], 0
    for share in shares[:-1]:
        done += share
        ends.append(start_ms + (end_ms - start_ms) * done / total)
    return ends


def _distance(pause: Span, target: float) -> float:
    """How far ``target`` lies from the pause: 0 inside it, else to its nearer edge."""
    return max(pause.start_ms - target, 0.0, target - pause.end_ms)


def _match(pauses: Sequence[Span], targets: Sequence[float]) -> list[tuple[int, int]]:
    """Pair pauses with share boundaries, ``min(len(pauses), len(targets))`` pairs rising in both: each
    item of the shorter list, in order, takes the nearest item of the longer one that leaves enough
    items for those after it."""
    if len(pauses) >= len(targets):
        picks = _in_order(len(targets), len(pauses), lambda j, k: _distance(pauses[k], targets[j]))
        return [(k, j) for j, k in enumerate(picks)]
    picks = _in_order(len(pauses), len(targets), lambda k, j: _distance(pauses[k], targets[j]))
    return list(enumerate(picks))


def _in_order(short: int, long: int, cost: Callable[[int, int], float]) -> list[int]:
    """For each of ``short`` items in order, the cheapest of the ``long`` items after the previous pick
    that leaves one for each item still to come (ties: the earlier)."""
    picks, low = [], 0
    for i in range(short):
        high = long - (short - i)  # inclusive: leaves exactly one per item still to come
        pick = min(range(low, high + 1), key=lambda k: cost(i, k))
        picks.append(pick)
        low = pick + 1
    return picks
