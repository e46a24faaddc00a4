"""The diarization error rate, computed as NIST's md-eval and pyannote.metrics compute it: missed speech, false
alarm and speaker confusion over the reference's speech time, overlapping speech included, under the
one-to-one mapping of hypothesis speakers to reference speakers that makes the most time agree, with a
no-score collar around every reference turn's start and end. Times are scored in 10 ms frames. Pure.

``collar_ms`` is the width removed on *each side* of a boundary, as md-eval's ``-c``; pyannote.metrics'
``collar`` is the total width (its ``collar=0.5`` is ``collar_ms=250`` here).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np

FRAME_MS = 10


@dataclass(frozen=True)
class Labelled:
    """A turn of a speaker named anyhow (a reference's names are strings)."""

    start_ms: int
    end_ms: int
    speaker: Hashable


@dataclass(frozen=True)
class Errors:
    """Scored time in ms: the reference's speech, and the three kinds of error."""

    total: int
    missed: int
    false_alarm: int
    confusion: int

    @property
    def rate(self) -> float:
        return (self.missed + self.false_alarm + self.confusion) / self.total if self.total else 0.0


def _activity(turns: Sequence[Labelled], frames: int) -> tuple[list[Hashable], np.ndarray]:
    names = sorted({t.speaker for t in turns}, key=str)
    active = np.zeros((len(names), frames), dtype=bool)
    for t in turns:
        active[names.index(t.speaker), t.start_ms // FRAME_MS:max(t.start_ms // FRAME_MS + 1, t.end_ms // FRAME_MS)] = True
    return names, active


def diarization_errors(reference: Sequence[Labelled], hypothesis: Sequence[Labelled], collar_ms: int = 250) -> Errors:
    """Errors of ``hypothesis`` against ``reference``.

    >>> ref = [Labelled(0, 10_000, "A"), Labelled(10_000, 20_000, "B")]
    >>> diarization_errors(ref, [Labelled(0, 20_000, 1)], collar_ms=0).rate
    0.5
    >>> diarization_errors(ref, [Labelled(0, 10_250, 2), Labelled(10_250, 20_000, 1)]).rate
    0.0
    """
    end = max([t.end_ms for t in [*reference, *hypothesis]], default=0)
    frames = end // FRAME_MS + 1
    _, ref = _activity(reference, frames)
    _, hyp = _activity(hypothesis, frames)
    scored = np.ones(frames, dtype=bool)
    half = collar_ms // FRAME_MS
    for t in _merged(reference):
        for edge in (t.start_ms // FRAME_MS, t.end_ms // FRAME_MS):
            scored[max(0, edge - half):edge + half] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64)  # frames each (ref, hyp) pair share
    correct = _best_mapping(overlap)
    # per frame: correct = mapped pairs both active; summing over frames is the mapped pairs' shared time
    total = int(n_ref.sum())
    missed = int(np.maximum(n_ref - n_hyp, 0).sum())
    false_alarm = int(np.maximum(n_hyp - n_ref, 0).sum())
    confusion = int(np.minimum(n_ref, n_hyp).sum()) - correct
    return Errors(total * FRAME_MS, missed * FRAME_MS, false_alarm * FRAME_MS, confusion * FRAME_MS)


def _merged(turns: Sequence[Labelled]) -> list[Labelled]:
    """Each speaker's overlapping or touching turns as one: their edges inside are no boundary."""
    out: list[Labelled] = []
    for t in sorted(turns, key=lambda t: (str(t.speaker), t.start_ms)):
        if out and out[-1].speaker == t.speaker and t.start_ms <= out[-1].end_ms:
            out[-1] = Labelled(out[-1].start_ms, max(out[-1].end_ms, t.end_ms), t.speaker)
        else:
            out.append(t)
    return out


def _best_mapping(overlap: np.ndarray) -> int:
    """The most shared frames under a one-to-one mapping (rows to columns): every mapping of the smaller
    side is tried (meetings have a handful of speakers; 8 on the smaller side is 40,320 mappings at most)."""
    rows, cols = overlap.shape
    if not rows or not cols:
        return 0
    if rows > cols:
        overlap, rows, cols = overlap.T, cols, rows
    return max(int(sum(overlap[r, c] for r, c in enumerate(chosen)))
               for chosen in itertools.permutations(range(cols), rows))
