"""Cues → subtitle file text, one writer per format, chosen by name (``WRITERS``).

Each format is written by its own library (``srt``, ``webvtt-py``, ``ttconv``, ``pysubs2``), which also
reads it back in the tests. Every writer takes the cues and their language code: TTML records the language
in the document (``xml:lang``), the others need not.
"""
from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Callable, Sequence

import srt
import webvtt

from dubber.models import Cue
from dubber.subtitles.cues import speaker_name
from dubber.subtitles.ass import to_ass
from dubber.subtitles.ttml import to_ttml

Writer = Callable[[Sequence[Cue], str], str]

# SRT has no escapes, and lenient readers (ffmpeg, many players) take any line that starts like a timing
# line for a new cue's timing, whatever comes before it: a model's "-->" is written "->".
_SRT_ARROW = re.compile(r"-{2,}>")


def to_srt(cues: Sequence[Cue], lang_code: str = "") -> str:
    """SubRip; it has no place for the language (``lang_code`` is taken for the common signature)."""
    items = [srt.Subtitle(i, timedelta(milliseconds=c.start_ms), timedelta(milliseconds=c.end_ms),
                          _SRT_ARROW.sub("->", c.text))
             for i, c in enumerate(cues, start=1)]
    return srt.compose(items, reindex=False)


def vtt_time(ms: int) -> str:
    """A WebVTT timestamp; hours always shown, so every cue's timing line has one shape (the live writer's
    rolling file and segments use it too).

    >>> vtt_time(3723004)
    '01:02:03.004'
    """
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def to_vtt(cues: Sequence[Cue], lang_code: str = "") -> str:
    """WebVTT; its language comes from the player's track, not the file (``lang_code`` is not written)."""
    # WebVTT text is HTML-like: escaping & < > also keeps a model's "-->" from ending the timing line.
    captions = [webvtt.Caption(vtt_time(c.start_ms), vtt_time(c.end_ms), _vtt_text(c)) for c in cues]
    return webvtt.WebVTT(captions=captions).content


def _vtt_text(cue: Cue) -> str:
    """A cue's WebVTT text: with speakers, each speaker's part in a voice span (``<v Speaker 1>``), closed
    so that a bilingual cue's source line below stays outside it.

    >>> _vtt_text(Cue(0, 1000, "-Yes?\\n-No & no.", ((1, "-Yes?"), (2, "-No & no."))))
    '<v Speaker 1>-Yes?</v>\\n<v Speaker 2>-No &amp; no.</v>'
    """
    if not cue.turns:
        return html.escape(cue.text, quote=False)
    spoken = "\n".join(part for _, part in cue.turns)
    rest = cue.text[len(spoken):]  # a bilingual cue's source line, after the speakers' parts
    voiced = "\n".join(f"<v {speaker_name(speaker)}>{html.escape(part, quote=False)}</v>"
                        for speaker, part in cue.turns)
    return voiced + html.escape(rest, quote=False)


WRITERS: dict[str, Writer] = {"srt": to_srt, "vtt": to_vtt, "ttml": to_ttml, "ass": to_ass}
