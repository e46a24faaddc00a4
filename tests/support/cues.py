"""Read subtitle files back with the libraries, into comparable (start_ms, end_ms, text) tuples."""
from __future__ import annotations

import html
from datetime import timedelta
from pathlib import Path

import srt
import webvtt


_ONE_MS = timedelta(milliseconds=1)


def _ms(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def read_srt(path: Path) -> list[tuple[int, int, str]]:
    subs = srt.parse(path.read_text(encoding="utf-8"))
    return [(s.start // _ONE_MS, s.end // _ONE_MS, s.content) for s in subs]


def read_vtt(path: Path) -> list[tuple[int, int, str]]:
    return [(_ms(c.start), _ms(c.end), html.unescape(c.text)) for c in webvtt.read(str(path))]


def covered_ms(cues: list[tuple[int, int, str]], start: int, end: int) -> int:
    """How many ms of [start, end) lie under some cue."""
    return sum(max(0, min(end, c_end) - max(start, c_start)) for c_start, c_end, _ in cues)
