"""Speaker turns → what the windows need: one speaker at each instant, the points where the speaker
changes, each window's speaker, and each speaker's talk time; turns as NIST RTTM. Pure.

Diarization gives turns that may overlap (two people talk at once). A window is voiced by one speaker, so
overlapping speech goes to the *dominant* speaker: the one whose turn there is longer. A short "yeah" inside
someone's long turn is a backchannel, not a change of speaker.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Iterable, Sequence

from dubber.models import Span, Turn, Window


def dominant(turns: Iterable[Turn]) -> list[Turn]:
    """One speaker at each instant: ``turns`` made disjoint, overlaps given to the longer turn, and a
    speaker's touching pieces joined.

    >>> [(t.start_ms, t.end_ms, t.speaker) for t in dominant([Turn(0, 5000, 1), Turn(4000, 4500, 2),
    ...                                                        Turn(4800, 9000, 2)])]
    [(0, 5000, 1), (5000, 9000, 2)]
    """
    ranked = sorted(turns, key=lambda t: (-t.duration_ms, t.start_ms, t.speaker))
    owned: list[Turn] = []  # disjoint, in rank order: each turn keeps what no longer turn holds
    for turn in ranked:
        pieces = [Span(turn.start_ms, turn.end_ms)]
        for held in owned:
            pieces = [p for piece in pieces for p in _minus(piece, held)]
        owned += [Turn(p.start_ms, p.end_ms, turn.speaker) for p in pieces if p.duration_ms > 0]
    out: list[Turn] = []
    for turn in sorted(owned, key=lambda t: t.start_ms):
        if out and out[-1].speaker == turn.speaker and out[-1].end_ms >= turn.start_ms:
            out[-1] = replace(out[-1], end_ms=max(out[-1].end_ms, turn.end_ms))
        else:
            out.append(turn)
    return out


def _minus(span: Span, held: Turn) -> list[Span]:
    if held.end_ms <= span.start_ms or held.start_ms >= span.end_ms:
        return [span]
    return [s for s in (Span(span.start_ms, held.start_ms), Span(held.end_ms, span.end_ms)) if s.duration_ms > 0]


def changes(turns: Iterable[Turn]) -> list[int]:
    """The points where the speaker changes: between two consecutive dominant turns of different speakers,
    where they touch, or halfway through the pause between them.

    >>> changes([Turn(0, 2000, 1), Turn(2600, 4000, 2), Turn(4000, 6000, 1), Turn(6500, 7000, 1)])
    [2300, 4000]
    """
    ordered = dominant(turns)
    return [(a.end_ms + b.start_ms) // 2 for a, b in zip(ordered, ordered[1:]) if a.speaker != b.speaker]


def speaker_of(spans: Sequence[Span], turns: Sequence[Turn]) -> int | None:
    """The speaker of most of ``spans`` (dominant ``turns``); failing any overlap, the nearest turn's."""
    heard: Counter[int] = Counter()
    for span in spans:
        for turn in turns:
            heard[turn.speaker] += max(0, min(span.end_ms, turn.end_ms) - max(span.start_ms, turn.start_ms))
    if heard and max(heard.values()) > 0:
        return min(heard, key=lambda s: (-heard[s], s))
    if not spans or not turns:
        return None
    middle = (spans[0].start_ms + spans[-1].end_ms) // 2
    return min(turns, key=lambda t: (max(t.start_ms - middle, middle - t.end_ms, 0), t.speaker)).speaker


def label_windows(windows: Sequence[Window], turns: Iterable[Turn]) -> list[Window]:
    """``windows`` each with its speaker: the one who says most of its speech."""
    ordered = dominant(turns)
    return [replace(w, speaker=speaker_of(w.speech or (Span(w.start_ms, w.end_ms),), ordered)) for w in windows]


def talk_time(turns: Iterable[Turn]) -> dict[int, int]:
    """Each speaker's talk time in ms (overlapping speech counts for each speaker in it), by speaker."""
    total: Counter[int] = Counter()
    for turn in turns:
        total[turn.speaker] += turn.duration_ms
    return dict(sorted(total.items()))


def renumber(turns: Iterable[Turn]) -> list[Turn]:
    """``turns`` sorted, their speakers numbered 1, 2, ... in order of first speech.

    >>> [t.speaker for t in renumber([Turn(900, 1000, 7), Turn(0, 500, 3), Turn(600, 800, 7)])]
    [1, 2, 2]
    """
    ordered = sorted(turns, key=lambda t: (t.start_ms, t.end_ms, t.speaker))
    numbers: dict[int, int] = {}
    for turn in ordered:
        numbers.setdefault(turn.speaker, len(numbers) + 1)
    return [replace(t, speaker=numbers[t.speaker]) for t in ordered]


def to_rttm(turns: Iterable[Turn], file_id: str) -> str:
    """``turns`` as NIST RTTM: one ``SPEAKER`` line per turn, times in seconds; speakers named ``speaker1``...
    (a file id holds no whitespace: RTTM fields are space-separated).

    >>> print(to_rttm([Turn(1500, 4250, 1)], "talk 1"), end="")
    SPEAKER talk_1 1 1.500 2.750 <NA> <NA> speaker1 <NA> <NA>
    """
    name = "_".join(file_id.split()) or "audio"
    return "".join(f"SPEAKER {name} 1 {t.start_ms / 1000:.3f} {t.duration_ms / 1000:.3f} <NA> <NA> "
                   f"speaker{t.speaker} <NA> <NA>\n" for t in sorted(turns, key=lambda t: (t.start_ms, t.speaker)))
