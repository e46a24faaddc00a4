"""The dub run's report (``<stem>.<lang>.dub.json``): per window its times, text, clip length, speed
factor and overflow, and its parts (one per utterance that got dubbed speech: onset, where in the clip it
comes from, where it plays, speed, overflow), plus what went into the file. Pure: values in, a
JSON-ready dict out.

A window's own figures sum up its parts, as they described its one clip before clips were split:
``clip_ms`` and ``overflow_ms`` are the parts' totals, ``dub_start_ms`` the first part's start,
``dub_end_ms`` and ``slot_end_ms`` the last part's, ``speed`` the fastest part's."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from dubber.dub.timeline import Placement
from dubber.models import Loudness, Speaker, Translation
from dubber.subtitles.cues import Overlong


@dataclass(frozen=True)
class DubSummary:
    """The run in a few figures: in the report's ``summary`` and in the CLI's closing line. ``clips``,
    ``sped_up`` and ``overflowed`` count windows (one clip each), ``parts`` the placed parts."""

    windows: int
    clips: int
    sped_up: int
    overflowed: int
    overflow_ms: int
    fastest: float
    parts: int = 0

    @classmethod
    def of(cls, windows: int, placements: Sequence[Placement]) -> "DubSummary":
        def windows_where(test: Callable[[Placement], bool]) -> int:
            return len({p.index for p in placements if test(p)})

        return cls(windows=windows, clips=windows_where(lambda p: True), sped_up=windows_where(lambda p: p.speed > 1.0),
                   overflowed=windows_where(lambda p: p.overflow_ms > 0),
                   overflow_ms=sum(p.overflow_ms for p in placements),
                   fastest=max((p.speed for p in placements), default=1.0), parts=len(placements))


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
    overlong_cues: tuple[Overlong, ...] = ()  # subtitles kept whole though read too fast (or on 3+ lines)
    speakers: tuple[Speaker, ...] = ()  # with --speakers: each speaker and their voice

    def voice_of(self, speaker: int | None) -> str:
        """The voice ``speaker``'s windows were dubbed in (the run's voice for a window with no speaker)."""
        voices = {s.number: s.voice for s in self.speakers if s.voice}
        return voices.get(speaker, self.voice) if speaker is not None else self.voice


def part_entry(placement: Placement) -> dict[str, Any]:
    return {"part": placement.part, "onset_ms": placement.start_ms, "clip_start_ms": placement.offset_ms,
            "clip_ms": placement.clip_ms, "dub_start_ms": placement.start_ms, "dub_end_ms": placement.end_ms,
            "slot_end_ms": placement.slot_end_ms, "speed": placement.speed, "overflow_ms": placement.overflow_ms}


def window_entry(translation: Translation, parts: Sequence[Placement], voice: str | None = None) -> dict[str, Any]:
    """One window's entry; ``parts`` are its placements (none when it has no dub); ``voice`` its speech's."""
    window = translation.window
    entry: dict[str, Any] = {  # int(): window times may be numpy integers, which json cannot write
        "index": int(window.index), "window_start_ms": int(window.start_ms), "window_end_ms": int(window.end_ms),
        "speaker": window.speaker, "voice": voice,
        "onset_ms": int(window.speech[0].start_ms if window.speech else window.start_ms),
        "text": translation.result.text, "clip_ms": 0, "dub_start_ms": None, "dub_end_ms": None,
        "slot_end_ms": None, "speed": None, "overflow_ms": 0, "parts": [],
    }
    if parts:
        parts = sorted(parts, key=lambda p: p.start_ms)
        entry.update(clip_ms=sum(p.clip_ms for p in parts), dub_start_ms=parts[0].start_ms,
                     dub_end_ms=parts[-1].end_ms, slot_end_ms=parts[-1].slot_end_ms,
                     speed=max(p.speed for p in parts), overflow_ms=sum(p.overflow_ms for p in parts),
                     parts=[part_entry(p) for p in parts])
    return entry


def _lufs(value: Loudness | None) -> float | None:
    return None if value is None else value.integrated


def build_report(facts: DubFacts, translations: Sequence[Translation], placements: Sequence[Placement]) -> dict:
    by_index: dict[int, list[Placement]] = {}
    for p in placements:
        by_index.setdefault(p.index, []).append(p)
    windows = [window_entry(t, by_index.get(t.window.index, []), facts.voice_of(t.window.speaker))
               for t in translations]
    return {
        "input": str(facts.input), "output": str(facts.output), "sidecars": [str(p) for p in facts.sidecars],
        "target": facts.target, "voice": facts.voice, "mix": facts.mix, "max_speed": facts.max_speed,
        "duration_ms": facts.duration_ms, "time_stretch": facts.stretch,
        "loudness": {"original_lufs": _lufs(facts.original_loudness), "dub_lufs_before": _lufs(facts.dub_loudness)},
        "summary": asdict(DubSummary.of(len(windows), placements)),
        "rate_limits": asdict(facts.rate_limits) if facts.rate_limits else None,
        "notes": list(facts.notes),
        "overlong_cues": [asdict(o) for o in facts.overlong_cues],
        "speakers": [asdict(s) for s in facts.speakers],
        "windows": windows,
    }


def to_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
