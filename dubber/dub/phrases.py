"""A window's dubbed speech, split at its own pauses and laid on the window's phrases (a pure plan).

The service answers one clip of speech per window, with no timestamps inside it. Played as one piece
from the window's first onset, a clip that runs short leaves the window's later phrases with no dub over
them, and one that runs long speaks over the next phrase's start. So the clip is cut into *parts*, one
per phrase, and each part is anchored at its phrase's onset (then fitted to its own slot by
``fit_timeline`` like any clip). The rule:

1. **Phrases** are the subtitles' own: the window's speech spans grouped at pauses by
   ``dubber.subtitles.timing.group_phrases`` with the cue rules' ``TimingRules``, so every cue that
   starts a phrase has a dub part starting with it.
2. **Cut points** are the clip's pauses only (the silences between its voiced runs, found once as the
   clip arrives: ``dubber.dub.clips.voiced_runs``), so a part never ends inside a word of the dub.
3. **Shares.** The clip's speech (from its first to its last voiced run) is shared between the phrases
   in proportion to each phrase's speech duration, as ``share_text`` shares the text; the boundary after
   phrase *j* falls at its share's end. Each boundary takes the pause nearest it, measured to the pause's
   nearer edge (a boundary inside a pause takes that pause), so a long pause between two dubbed
   sentences wins over a word gap a little closer. Boundaries are taken in order and each leaves enough
   pauses for the ones after it, so parts stay in order and, when the clip has at least as many voiced
   runs as the window has phrases (N ≥ M), **every phrase gets a part**.
4. **Fewer runs than phrases** (N < M): every pause is a cut, and each takes the phrase boundary nearest
   it (in order, leaving enough boundaries for the pauses after it). A phrase that gets no part of its
   own lies inside the slot of the part before it, as a window's later phrases did before the split.
5. A part runs from its first voiced run's start to its last one's end; the pause audio between two
   parts is dropped (the gap before each onset and the silence in the original take its place). The
   first part starts at the clip's start and the last ends at its end, so **a window with one phrase
   gives one part, the whole clip, exactly as before.**

Times in ``Span``s of the clip are clip-local ms at natural speed; onsets are on the media's timeline.
"""
from __future__ import annotations

from typing import Callable, Sequence

from dubber.dub.timeline import Clip
from dubber.models import Span, Window
from dubber.subtitles.timing import TimingRules, group_phrases


def window_parts(window: Window, length_ms: int, runs: Sequence[Span], rules: TimingRules) -> tuple[Clip, ...]:
    """The parts of ``window``'s dubbed clip (``length_ms`` long, voiced in ``runs``) on its phrases."""
    if window.speech:
        phrases = group_phrases(window.speech, rules)
    else:  # nothing detected inside (never planned so, but a window is still a window): one phrase
        phrases = [[Span(window.start_ms, window.end_ms)]]
    return split_clip(window.index, length_ms, runs, phrases)


def split_clip(index: int, length_ms: int, runs: Sequence[Span], phrases: Sequence[Sequence[Span]]) -> tuple[Clip, ...]:
    """Cut a clip of ``length_ms`` with voiced ``runs`` (sorted, disjoint, inside the clip) into parts on
    ``phrases`` (sorted, non-empty groups of the original's speech spans); the rule is in the module
    docstring.

    >>> split_clip(3, 2000, [Span(0, 600), Span(700, 1300), Span(1400, 2000)],
    ...            [[Span(1000, 1500)], [Span(3000, 4000)]])
    (Clip(index=3, onset_ms=1000, length_ms=600, part=0, offset_ms=0), \
Clip(index=3, onset_ms=3000, length_ms=1300, part=1, offset_ms=700))
    """
    runs = [r for r in runs if r.end_ms > r.start_ms] or [Span(0, length_ms)]
    pauses = [Span(a.end_ms, b.start_ms) for a, b in zip(runs, runs[1:])]
    targets = _share_ends(runs[0].start_ms, runs[-1].end_ms, [_speech_ms(p) for p in phrases])
    cuts = _match(pauses, targets)  # (pause k, boundary j): the part after run k starts phrase j + 1
    firsts = [0] + [k + 1 for k, _ in cuts]
    lasts = [k for k, _ in cuts] + [len(runs) - 1]
    onsets = [phrases[0][0].start_ms] + [phrases[j + 1][0].start_ms for _, j in cuts]
    parts = []
    for part, (first, last, onset) in enumerate(zip(firsts, lasts, onsets)):
        start = 0 if part == 0 else runs[first].start_ms
        end = length_ms if last == len(runs) - 1 else runs[last].end_ms
        parts.append(Clip(index, onset, end - start, part, start))
    return tuple(parts)


def _speech_ms(phrase: Sequence[Span]) -> int:
    return sum(s.duration_ms for s in phrase)


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
