"""Cues → subtitle file text, one writer per format, chosen by name (``WRITERS``).

Each format is written by its own library (``srt``, ``webvtt-py``), which also reads it back in the tests.
"""
from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Callable, Sequence

import srt
import webvtt

from dubber.models import Cue

# SRT has no escapes, and lenient readers (ffmpeg, many players) take any line that starts like a timing
# line for a new cue's timing, whatever comes before it: a model's "-->" is written "->".
_SRT_ARROW = re.compile(r"-{2,}>")


def to_srt(cues: Sequence[Cue]) -> str:
    items = [srt.Subtitle(i, timedelta(milliseconds=c.start_ms), timedelta(milliseconds=c.end_ms),
                          _SRT_ARROW.sub("->", c.text))
             for i, c in enumerate(cues, start=1)]
    return srt.compose(items, reindex=False)


def _vtt_time(ms: int) -> str:
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def to_vtt(cues: Sequence[Cue]) -> str:
    # WebVTT text is HTML-like: escaping & < > also keeps a model's "-->" from ending the timing line.
    captions = [webvtt.Caption(_vtt_time(c.start_ms), _vtt_time(c.end_ms), html.escape(c.text, quote=False))
                for c in cues]
    return webvtt.WebVTT(captions=captions).content


WRITERS: dict[str, Callable[[Sequence[Cue]], str]] = {"srt": to_srt, "vtt": to_vtt}
