"""What an edited dub keeps, moves and voices anew (a pure plan).

The earlier dub is its cues (the sidecar as it was written) and its placed parts (each window's speech,
cut on its phrases and fitted: ``dubber.dub.timeline``). Each part *belongs to* the earlier cue it plays
over most, so a cue's speech is its parts. Then, for each given cue, by its match
(``dubber.voicing.match``):

- **kept**: the same words at the same times. Its parts stay exactly where and how they were.
- **re-timed**: the same words, moved. Its parts move with its start, the last one re-fitted to end where
  the cue's end moved it (faster for a shortened cue); no request.
- **re-voiced** (**voiced**, with no earlier dub): new or edited words, voiced from the text, fitted into
  the cue's own span.

Every part of a cue that is not kept or re-timed is dropped. A kept cue whose words sounded inside
another cue's part (a window whose speech had fewer pauses than phrases) loses them when that part is
dropped: it is re-voiced too, as is one with no earlier speech over it at all, so every cue with words is
heard.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from dubber.dub.timeline import Clip, Placement
from dubber.models import Cue
from dubber.voicing.match import KEPT, RETIMED, REVOICED, VOICED, Match


@dataclass(frozen=True)
class EarlierDub:
    """What was voiced before: its cues, and its placed parts (window speech)."""

    cues: tuple[Cue, ...]
    placements: tuple[Placement, ...]


@dataclass(frozen=True)
class Line:
    """A given cue and what happens to it: ``status`` is kept, re-timed, re-voiced or voiced."""

    number: int  # 1-based, as SRT numbers it
    cue: Cue
    status: str
    earlier: int | None = None  # the earlier cue it matched (0-based)
    parts: tuple[tuple[int, int], ...] = ()  # the earlier parts it keeps or moves: (window, part)


@dataclass(frozen=True)
class VoicingPlan:
    lines: tuple[Line, ...]
    pinned: tuple[Placement, ...]  # kept parts, as they were placed
    moved: tuple[Clip, ...]  # re-timed parts, to fit again

    def to_voice(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.status in (REVOICED, VOICED))


def _overlap(placement: Placement, cue: Cue) -> int:
    return max(0, min(placement.end_ms, cue.end_ms) - max(placement.start_ms, cue.start_ms))


def owners(cues: Sequence[Cue], placements: Sequence[Placement]) -> list[int | None]:
    """The earlier cue each placement belongs to: the one it plays over most; with none under it, the
    last cue starting before it (None: no cue at all).

    >>> cues = [Cue(1000, 2500, "a"), Cue(3000, 4000, "b")]
    >>> owners(cues, [Placement(0, 1000, 2900, 2900, 1900, 1.0, 0), Placement(0, 3000, 3300, 3300, 300, 1.0, 0, 1)])
    [0, 1]
    """
    out: list[int | None] = []
    for p in placements:
        best = max(range(len(cues)), key=lambda k: (_overlap(p, cues[k]), -k), default=None)
        if best is not None and _overlap(p, cues[best]) == 0:
            before = [k for k, c in enumerate(cues) if c.start_ms <= p.start_ms]
            best = before[-1] if before else 0
        out.append(best)
    return out


def _moved(parts: Sequence[Placement], given: Cue, earlier: Cue) -> list[Clip]:
    """``parts`` moved with the cue's start; the last one to end where the cue's end moved it."""
    shift = given.start_ms - earlier.start_ms
    clips = []
    for k, p in enumerate(sorted(parts, key=lambda p: p.start_ms)):
        end = p.end_ms + given.end_ms - earlier.end_ms if k == len(parts) - 1 else None
        clips.append(Clip(p.index, p.start_ms + shift, p.clip_ms, p.part, p.offset_ms, end))
    return clips


def plan_voicing(given: Sequence[Cue], matches: Sequence[Match], earlier: EarlierDub | None) -> VoicingPlan:
    """The plan for ``given`` (matched to ``earlier``'s cues by ``matches``, one per given cue in order)."""
    if earlier is None:
        return VoicingPlan(tuple(Line(i + 1, cue, VOICED) for i, cue in enumerate(given)), (), ())
    owner = owners(earlier.cues, earlier.placements)
    owned: dict[int, list[Placement]] = {}
    for p, k in zip(earlier.placements, owner):
        if k is not None:
            owned.setdefault(k, []).append(p)
    keeps = {m.earlier for m in matches if m.earlier is not None}  # earlier cues whose speech stays
    kept_parts = {(p.index, p.part) for k in keeps for p in owned.get(k, [])}
    lines, pinned, moved = [], [], []
    for m in matches:
        cue = given[m.given]
        if m.earlier is None or not _heard(earlier, m.earlier, owned, kept_parts):
            lines.append(Line(m.given + 1, cue, REVOICED, m.earlier))
            continue
        parts = owned.get(m.earlier, [])
        keys = tuple((p.index, p.part) for p in parts)
        if m.moved:
            moved += _moved(parts, cue, earlier.cues[m.earlier]) if parts else []
            lines.append(Line(m.given + 1, cue, RETIMED, m.earlier, keys))
        else:
            pinned += parts
            lines.append(Line(m.given + 1, cue, KEPT, m.earlier, keys))
    return VoicingPlan(tuple(lines), tuple(sorted(pinned, key=lambda p: p.start_ms)), tuple(moved))


def _heard(earlier: EarlierDub, k: int, owned: dict[int, list[Placement]], kept: set[tuple[int, int]]) -> bool:
    """Whether earlier cue ``k``'s words are still heard: it has parts of its own, or it lies under a part
    that stays."""
    if owned.get(k):
        return True
    cue = earlier.cues[k]
    return any(_overlap(p, cue) > 0 and (p.index, p.part) in kept for p in earlier.placements)
