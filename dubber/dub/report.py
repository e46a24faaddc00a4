"""The dub run's report (``<stem>.<lang>.dub.json``): per window its times, text, clip length, speed
factor and overflow, plus what went into the file. Pure: values in, a JSON-ready dict out."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from dubber.dub.timeline import Placement
from dubber.models import Loudness, Translation


@dataclass(frozen=True)
class DubSummary:
    """The run in a few figures: in the report's ``summary`` and in the CLI's closing line."""

    windows: int
    clips: int
    sped_up: int
    overflowed: int
    overflow_ms: int
    fastest: float

    @classmethod
    def of(cls, windows: int, placements: Sequence[Placement]) -> "DubSummary":
        return cls(windows=windows, clips=len(placements), sped_up=sum(p.speed > 1.0 for p in placements),
                   overflowed=sum(p.overflow_ms > 0 for p in placements),
                   overflow_ms=sum(p.overflow_ms for p in placements),
                   fastest=max((p.speed for p in placements), default=1.0))


@dataclass(frozen=True)
class RateLimits:
    """How the service's rate limits shaped the run: requests in flight start at ``jobs``, each 429 burst
    halves them (``cuts``), successes grow them back."""

    jobs: int
    lowest_in_flight: int
    cuts: int


@dataclass(frozen=True)
class DubFacts:
    """What the run decided, beyond the per-window figures."""

    input: Path
    output: Path
    sidecars: tuple[Path, ...]
    target: str
    voice: str
    mix: str
    max_speed: float
    duration_ms: int
    stretch: str  # "rubberband" or "atempo"
    original_loudness: Loudness | None
    dub_loudness: Loudness | None  # before matching
    notes: tuple[str, ...]
    rate_limits: RateLimits | None = None


def window_entry(translation: Translation, placement: Placement | None) -> dict[str, Any]:
    window = translation.window
    entry: dict[str, Any] = {  # int(): window times may be numpy integers, which json cannot write
        "index": int(window.index), "window_start_ms": int(window.start_ms), "window_end_ms": int(window.end_ms),
        "onset_ms": int(window.speech[0].start_ms if window.speech else window.start_ms),
        "text": translation.result.text, "clip_ms": 0, "dub_start_ms": None, "dub_end_ms": None,
        "slot_end_ms": None, "speed": None, "overflow_ms": 0,
    }
    if placement is not None:
        entry.update(clip_ms=placement.clip_ms, dub_start_ms=placement.start_ms, dub_end_ms=placement.end_ms,
                     slot_end_ms=placement.slot_end_ms, speed=placement.speed, overflow_ms=placement.overflow_ms)
    return entry


def _lufs(value: Loudness | None) -> float | None:
    return None if value is None else value.integrated


def build_report(facts: DubFacts, translations: Sequence[Translation], placements: Sequence[Placement]) -> dict:
    by_index = {p.index: p for p in placements}
    windows = [window_entry(t, by_index.get(t.window.index)) for t in translations]
    return {
        "input": str(facts.input), "output": str(facts.output), "sidecars": [str(p) for p in facts.sidecars],
        "target": facts.target, "voice": facts.voice, "mix": facts.mix, "max_speed": facts.max_speed,
        "duration_ms": facts.duration_ms, "time_stretch": facts.stretch,
        "loudness": {"original_lufs": _lufs(facts.original_loudness), "dub_lufs_before": _lufs(facts.dub_loudness)},
        "summary": asdict(DubSummary.of(len(windows), placements)),
        "rate_limits": asdict(facts.rate_limits) if facts.rate_limits else None,
        "notes": list(facts.notes),
        "windows": windows,
    }


def to_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
