"""Speech spans -> windows: the stretches of the track sent to the service, one request each. Pure.

The service translates a window as one block of text with no timestamps inside, so a window is the
unit of subtitle timing and dub sync; it is also all the context the translation gets. The plan:

1. Long silences (>= ``long_silence_ms``) are hard boundaries: never inside a window, never sent.
2. Each run of speech between them is split top-down: while a piece is longer than ``max_ms``, at its
   longest pause that leaves at least ``min_ms`` on both sides; failing that, inside a span longer than
   ``max_ms`` at its quietest frame, in the region that lets the rest be cut into pieces of ``min_ms`` to
   ``max_ms``; failing that, at the pause that leaves the most on its shorter side. A piece that fits is
   still split at its longest pause of ``split_pause_ms`` or more (a likely sentence end) when both
   sides keep ``min_ms``. Only the pauses between detected spans are candidates, short ones included, so
   there is no separate "merge close spans" step: a 100 ms gap is used only when nothing better exists.
3. Bottom-up, a piece still shorter than ``min_ms`` is merged into the neighbour across the shorter
   pause, while the result fits in ``max_ms``. (Top-down choices alone can leave two short pieces side by
   side that one merge would fix; this pass makes "short only when it cannot merge" hold exactly.)
4. Each piece is padded by ``pad_ms`` into the silence around it, never past the middle of the pause to
   its neighbour and never outside the track, so leading and trailing silence is trimmed; and never over
   frames quieter than ``quiet_db`` at its outer edge (nothing to hear there, yet paid for).

A window's speech is cut only inside a detected span longer than ``max_ms``; everywhere else its edges
fall in pauses.

``cuts`` (speaker changes, from ``dubber.speakers``) are hard boundaries too, like long silences: no window
spans one, and a span that runs across one is cut there.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from dubber.errors import OptionError
from dubber.models import Span, Window


@dataclass(frozen=True)
class WindowOptions:
    """How speech becomes windows. Defaults, in ms:

    - ``min_ms=2000``: about one short sentence, the least context worth a request. A lone "Thank you."
      joins its neighbour; two 2.5 s sentences 0.8 s apart still get a window each.
    - ``max_ms=12000``: most spoken sentences are under 10 s, so cuts inside a sentence are rare, while a
      window's text stays within about two subtitle cues and timing errors inside a window stay small.
    - ``long_silence_ms=2000``: a pause this long is a scene or speaker change, not a breath; sending it
      would pay for silence and invite the model to translate music.
    - ``split_pause_ms=700``: pauses inside a sentence (commas, breaths) are mostly 150-500 ms, pauses
      between sentences 500-1000 ms and more.
    - ``pad_ms=200``: covers consonants a detector clips at speech edges and gives the model a moment of
      lead-in, yet stays far below ``long_silence_ms``. (100 ms lost up to 0.4 s of speech onsets in
      ``benchmarks/vad_bench.py``'s scenes under a music or noise bed; 200 lost none.)
    - ``quiet_db=-60``: padding stops at audio quieter than this (the energy detector's own absolute floor):
      it holds nothing to hear, and would only be paid for. Over a bed or room tone louder than that, the
      full padding stays.
    """

    min_ms: int = 2000
    max_ms: int = 12000
    long_silence_ms: int = 2000
    split_pause_ms: int = 700
    pad_ms: int = 200
    quiet_db: float = -60.0

    def __post_init__(self) -> None:
        if min(self.min_ms, self.pad_ms) < 0 or min(self.max_ms, self.long_silence_ms, self.split_pause_ms) <= 0:
            raise OptionError("window lengths must be positive (min and pad may be 0)")
        if self.max_ms < 2 * self.min_ms:
            raise OptionError(f"the longest window ({self.max_ms} ms) must be at least twice the shortest "
                              f"({self.min_ms} ms), so that long speech can always be cut into pieces")
        if self.pad_ms >= self.long_silence_ms:
            raise OptionError(f"padding ({self.pad_ms} ms) must be shorter than a long silence "
                              f"({self.long_silence_ms} ms)")


@dataclass(frozen=True)
class _Piece:
    """A window before padding: from its first span's start to its last span's end."""

    spans: tuple[Span, ...]  # sorted, disjoint; touching only where an over-long span was cut

    @property
    def start(self) -> int:
        return self.spans[0].start_ms

    @property
    def end(self) -> int:
        return self.spans[-1].end_ms

    @property
    def length(self) -> int:
        return self.end - self.start

    def pauses(self) -> list[tuple[int, int]]:
        return [(a.end_ms, b.start_ms) for a, b in zip(self.spans, self.spans[1:])]

    def split(self, left_end: int, right_start: int) -> tuple[_Piece, _Piece]:
        left = tuple(Span(s.start_ms, min(s.end_ms, left_end)) for s in self.spans if s.start_ms < left_end)
        right = tuple(Span(max(s.start_ms, right_start), s.end_ms) for s in self.spans if s.end_ms > right_start)
        return _Piece(left), _Piece(right)

    def join(self, other: _Piece) -> _Piece:
        a, b = self.spans[-1], other.spans[0]
        if a.end_ms == b.start_ms:  # the two halves of a cut span become one again
            return _Piece((*self.spans[:-1], Span(a.start_ms, b.end_ms), *other.spans[1:]))
        return _Piece(self.spans + other.spans)


def plan_windows(speech: Sequence[Span], duration_ms: int, levels: Sequence[float] | np.ndarray,
                 frame_ms: int, options: WindowOptions = WindowOptions(), cuts: Sequence[int] = ()) -> list[Window]:
    """Plan the windows for ``speech`` (as from ``dubber.vad.detect_speech``) in a track of ``duration_ms``.

    ``levels[i]`` is the level (dB) of ``[i * frame_ms, (i + 1) * frame_ms)``, used to cut over-long speech
    at its quietest point. Returns windows in time order, indexed from 0. No window spans a point of ``cuts``.

    >>> [(w.start_ms, w.end_ms) for w in plan_windows([Span(1000, 3500), Span(3800, 6000)], 9000, [], 20)]
    [(800, 6200)]
    >>> [(w.start_ms, w.end_ms) for w in plan_windows([Span(1000, 3500), Span(3800, 6000)], 9000, [], 20, cuts=[3000])]
    [(800, 3000), (3000, 6200)]
    """
    if frame_ms <= 0:
        raise ValueError(f"frame_ms must be positive, not {frame_ms}")
    level_array = np.asarray(levels, dtype=np.float64)
    cuts = sorted(cuts)
    pieces: list[_Piece] = []
    for group in _groups(_cut(_normalise(speech, duration_ms), cuts), options.long_silence_ms, cuts):
        pieces += _merge_short(_split(_Piece(group), level_array, frame_ms, options), options)
    return _pad(pieces, duration_ms, options, level_array, frame_ms, cuts)


def settled_speech(speech: Sequence[Span], trusted_ms: int, long_silence_ms: int) -> tuple[list[Span], int]:
    """The spans of a decoded prefix whose windows a plan of the whole track will share, and where the next
    span starts: those before the last long silence that lies, with the span after it, wholly before
    ``trusted_ms`` (past which the prefix's detection may still change). Long silences are hard window
    boundaries (rule 1), and nothing else looks across one, so these windows are planned already.

    >>> settled_speech([Span(0, 900), Span(3500, 4000), Span(4200, 5000), Span(9000, 9500)], 8000, 2000)
    ([Span(start_ms=0, end_ms=900)], 3500)
    """
    final = [s for s in sorted(speech, key=lambda s: s.start_ms) if s.end_ms <= trusted_ms]
    for k in range(len(final) - 1, 0, -1):
        if final[k].start_ms - final[k - 1].end_ms >= long_silence_ms:
            return final[:k], final[k].start_ms
    return [], 0


def plan_settled(speech: Sequence[Span], trusted_ms: int, levels: Sequence[float] | np.ndarray, frame_ms: int,
                 options: WindowOptions = WindowOptions()) -> list[Window]:
    """The windows of a decoded prefix that a plan of the whole track will share (``settled_speech``'s
    spans), planned as if the track ended halfway through the long silence after them, so that the last
    one's padding is bounded as the whole plan bounds it: by half the pause to the next window."""
    settled, next_start = settled_speech(speech, trusted_ms, options.long_silence_ms)
    if not settled:
        return []
    return plan_windows(settled, settled[-1].end_ms + (next_start - settled[-1].end_ms) // 2, levels, frame_ms, options)


def _normalise(speech: Sequence[Span], duration_ms: int) -> list[Span]:
    """Sorted, clipped to the track, empty spans dropped, overlapping or touching spans merged."""
    out: list[Span] = []
    for span in sorted(speech, key=lambda s: s.start_ms):
        start, end = max(0, span.start_ms), min(duration_ms, span.end_ms)
        if end <= start:
            continue
        if out and start <= out[-1].end_ms:
            out[-1] = Span(out[-1].start_ms, max(out[-1].end_ms, end))
        else:
            out.append(Span(start, end))
    return out


def _cut(spans: list[Span], cuts: Sequence[int]) -> list[Span]:
    """``spans`` with each one that runs across a point of ``cuts`` (sorted) cut there (the pieces touch)."""
    out: list[Span] = []
    for span in spans:
        start = span.start_ms
        inside = cuts[bisect.bisect_right(cuts, span.start_ms):bisect.bisect_left(cuts, span.end_ms)]
        for point in inside:
            out.append(Span(start, point))
            start = point
        out.append(Span(start, span.end_ms))
    return out


def _groups(spans: list[Span], long_silence_ms: int, cuts: Sequence[int] = ()) -> list[tuple[Span, ...]]:
    """Runs of spans that no long silence and no cut parts (``cuts`` sorted)."""
    groups: list[list[Span]] = []
    for span in spans:
        parted = bool(groups) and _cut_between(cuts, groups[-1][-1].end_ms, span.start_ms)
        if groups and span.start_ms - groups[-1][-1].end_ms < long_silence_ms and not parted:
            groups[-1].append(span)
        else:
            groups.append([span])
    return [tuple(g) for g in groups]


def _cut_between(cuts: Sequence[int], end_ms: int, start_ms: int) -> bool:
    """Whether a point of ``cuts`` (sorted) lies in the pause ``[end_ms, start_ms]``."""
    i = bisect.bisect_left(cuts, end_ms)
    return i < len(cuts) and cuts[i] <= start_ms


def _split(whole: _Piece, levels: np.ndarray, frame_ms: int, o: WindowOptions) -> list[_Piece]:
    """Top-down splitting (step 2), with an explicit stack: an hour of talk must not hit the recursion limit."""
    done: list[_Piece] = []
    todo = [whole]
    while todo:
        piece = todo.pop()
        cut = _choose_cut(piece, levels, frame_ms, o)
        if cut is None:
            done.append(piece)
        else:
            left, right = piece.split(*cut)
            todo += [right, left]  # left on top: pieces come out in time order
    return done


def _choose_cut(piece: _Piece, levels: np.ndarray, frame_ms: int, o: WindowOptions) -> tuple[int, int] | None:
    """Where to split ``piece``, as (left piece's end, right piece's start), or None to keep it whole."""
    def shorter_side(pause: tuple[int, int]) -> int:
        return min(pause[0] - piece.start, piece.end - pause[1])

    def rank(pause: tuple[int, int]) -> tuple[int, int]:  # longest; on a tie, the most central
        return pause[1] - pause[0], shorter_side(pause)

    pauses = piece.pauses()
    balanced = [p for p in pauses if shorter_side(p) >= o.min_ms]
    if piece.length <= o.max_ms:
        sentence_ends = [p for p in balanced if p[1] - p[0] >= o.split_pause_ms]
        return max(sentence_ends, key=rank) if sentence_ends else None
    if balanced:
        return max(balanced, key=rank)
    inside = _quiet_cut(piece, levels, frame_ms, o)
    if inside is not None:
        return inside, inside
    return max(pauses, key=shorter_side)  # pauses is not empty: a lone over-long span always has a cut


def _quiet_cut(piece: _Piece, levels: np.ndarray, frame_ms: int, o: WindowOptions) -> int | None:
    """The quietest frame centre inside a span longer than ``max_ms`` where cutting leaves a left part of
    ``min_ms``..``max_ms`` and a rest that ``k - 1`` more cuts can make into such parts (k = pieces needed).
    Ties go to the point nearest an even split; without levels there, the point nearest it."""
    k = math.ceil(piece.length / o.max_ms)
    lo = piece.start + max(o.min_ms, piece.length - (k - 1) * o.max_ms, 1)
    hi = piece.start + min(o.max_ms, piece.length - (k - 1) * o.min_ms, piece.length - 1)
    ideal = piece.start + piece.length // k
    regions = [(max(lo, s.start_ms + 1), min(hi, s.end_ms - 1)) for s in piece.spans if s.duration_ms > o.max_ms]
    regions = [(a, b) for a, b in regions if a <= b]
    if not regions:
        return None
    best: tuple[float, int, int] | None = None
    for a, b in regions:
        first = max(0, math.ceil((a - frame_ms // 2) / frame_ms))
        last = min(len(levels) - 1, (b - frame_ms // 2) // frame_ms)
        for i in range(first, last + 1):
            centre = i * frame_ms + frame_ms // 2
            key = (float(levels[i]), abs(centre - ideal), centre)
            best = key if best is None or key < best else best
    if best is not None:
        return best[2]
    return min((min(max(ideal, a), b) for a, b in regions), key=lambda c: abs(c - ideal))


def _merge_short(pieces: list[_Piece], o: WindowOptions) -> list[_Piece]:
    """Step 3: merge each piece shorter than ``min_ms`` into a neighbour, across the shorter pause first,
    while the merged piece fits in ``max_ms``."""
    pieces = list(pieces)
    while True:
        merges = [
            (pieces[j + 1].start - pieces[j].end, pieces[j + 1].end - pieces[j].start, j)
            for i, piece in enumerate(pieces) if piece.length < o.min_ms
            for j in (i - 1, i) if 0 <= j < len(pieces) - 1
            if pieces[j + 1].end - pieces[j].start <= o.max_ms
        ]
        if not merges:
            return pieces
        j = min(merges)[2]
        pieces[j:j + 2] = [pieces[j].join(pieces[j + 1])]


def _pad(pieces: list[_Piece], duration_ms: int, o: WindowOptions, levels: np.ndarray, frame_ms: int,
         cuts: Sequence[int] = ()) -> list[Window]:
    windows = []
    for i, piece in enumerate(pieces):
        before = piece.start - pieces[i - 1].end if i else 2 * piece.start
        after = pieces[i + 1].start - piece.end if i + 1 < len(pieces) else 2 * (duration_ms - piece.end)
        start = piece.start - min(o.pad_ms, before - before // 2)
        end = piece.end + min(o.pad_ms, after // 2)
        # never padded across a cut (a change of speaker) in the pause around it
        k = bisect.bisect_right(cuts, piece.start)
        start = max(start, cuts[k - 1]) if k else start
        k = bisect.bisect_left(cuts, piece.end)
        end = min(end, cuts[k]) if k < len(cuts) else end
        start, end = _unquiet(start, piece.start, levels, frame_ms, o.quiet_db), \
            _unquiet(end, piece.end, levels, frame_ms, o.quiet_db)
        windows.append(Window(i, start, end, piece.spans))
    return windows


def _unquiet(edge: int, speech_edge: int, levels: np.ndarray, frame_ms: int, quiet_db: float) -> int:
    """``edge`` (a window's padded start or end) moved back towards ``speech_edge`` over the frames of the
    padding that are quieter than ``quiet_db``: they hold nothing to hear, and a window's audio is paid
    for by the second. Only whole frames are dropped; without levels there, the edge stays.

    >>> quiet_then_speech = np.array([-120.0] * 45 + [-30.0] * 5)
    >>> _unquiet(800, 1000, quiet_then_speech, 20, -60.0), _unquiet(800, 1000, quiet_then_speech + 70, 20, -60.0)
    (900, 800)
    """
    step = 1 if edge > speech_edge else -1
    while edge != speech_edge:
        frame = (edge - 1 if step > 0 else edge) // frame_ms  # the padding's outermost frame
        if not 0 <= frame < len(levels) or levels[frame] >= quiet_db:
            break
        outer = frame * frame_ms if step > 0 else (frame + 1) * frame_ms  # the frame's inner edge
        edge = speech_edge if (outer - speech_edge) * step <= 0 else outer
    return edge
