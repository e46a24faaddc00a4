"""The lines of a dub from text, as its report gives them (pure): each given cue, what became of it (kept,
re-timed, re-voiced or voiced) and where its speech plays."""
from __future__ import annotations

from typing import Any, Sequence

from dubber.dub.report import part_entry
from dubber.dub.timeline import Placement
from dubber.voicing.match import KEPT, RETIMED, REVOICED, VOICED
from dubber.voicing.plan import Line


def lines_report(lines: Sequence[Line], placements: Sequence[Placement]) -> list[dict[str, Any]]:
    """One entry per given cue, in the file's order: its number, times, text, status and placed parts."""
    placed = {(p.index, p.part): p for p in placements}
    return [{"number": line.number, "start_ms": line.cue.start_ms, "end_ms": line.cue.end_ms, "text": line.cue.text,
             "status": line.status, "earlier_cue": None if line.earlier is None else line.earlier + 1,
             "parts": [part_entry(placed[key]) for key in line.parts if key in placed]} for line in lines]


def lines_summary(lines: Sequence[Line]) -> dict[str, int]:
    """How many lines had each fate.

    >>> lines_summary([])
    {'kept': 0, 're-timed': 0, 're-voiced': 0, 'voiced': 0}
    """
    return {status: sum(1 for line in lines if line.status == status) for status in (KEPT, RETIMED, REVOICED, VOICED)}
