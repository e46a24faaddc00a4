"""Read subtitle files back with the libraries, into comparable (start_ms, end_ms, text) tuples."""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pysubs2
import srt
import webvtt
from ttconv import model as tt
from ttconv.imsc import reader as imsc_reader


_ONE_MS = timedelta(milliseconds=1)


def _ms(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def read_srt(path: Path) -> list[tuple[int, int, str]]:
    subs = srt.parse(path.read_text(encoding="utf-8"))
    return [(s.start // _ONE_MS, s.end // _ONE_MS, s.content) for s in subs]


def read_vtt(path: Path) -> list[tuple[int, int, str]]:
    return [(_ms(c.start), _ms(c.end), html.unescape(c.text)) for c in webvtt.read(str(path))]


def _ttml_text(element) -> str:
    if isinstance(element, tt.Text):
        return element.get_text()
    if isinstance(element, tt.Br):
        return "\n"
    return "".join(_ttml_text(child) for child in element)


def _ttml_ms(seconds) -> int:
    ms = (seconds or 0) * 1000
    assert ms == int(ms), f"not a whole millisecond: {seconds}"
    return int(ms)


def read_ttml(path: Path) -> list[tuple[int, int, str]]:
    """Through ttconv's IMSC reader: each <p> (times in ms, text with <br/> as line breaks)."""
    doc = imsc_reader.to_model(ET.parse(path))
    assert doc is not None, f"ttconv could not read {path}"
    paragraphs = [p for div in doc.get_body() for p in div]
    return [(_ttml_ms(p.get_begin()), _ttml_ms(p.get_end()), _ttml_text(p)) for p in paragraphs]


# The writer's escapes (dubber.subtitles.ass): every backslash it wrote starts one of these.
_ASS_ESCAPE = re.compile(r"\\(N|\{|\}|\u2060)")
_ASS_UNESCAPED = {"N": "\n", "{": "{", "}": "}", "\u2060": "\\"}


def read_ass(path: Path) -> list[tuple[int, int, str]]:
    """Through pysubs2: dialogue events in ms (whole centiseconds), ``\\N`` back to line breaks and the
    escapes undone."""
    events = pysubs2.load(str(path), encoding="utf-8").events
    return [(e.start, e.end, _ASS_ESCAPE.sub(lambda m: _ASS_UNESCAPED[m.group(1)], e.text)) for e in events]


def covered_ms(cues: list[tuple[int, int, str]], start: int, end: int) -> int:
    """How many ms of [start, end) lie under some cue."""
    return sum(max(0, min(end, c_end) - max(start, c_start)) for c_start, c_end, _ in cues)
