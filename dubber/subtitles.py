"""Translated windows → timed cues (pure), and cues → SRT / WebVTT text.

The service returns one block of text per window with no timestamps inside it. The text is split into
cue-sized pieces at sentence, then clause, then word boundaries, and the pieces are laid over the
window's detected speech spans in proportion to their length, so a cue starts where speech starts and
pauses between spans are kept free where the text allows.
"""
from __future__ import annotations

import html
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Sequence

import srt
import webvtt

from dubber.languages import is_cjk
from dubber.models import Cue, Span, Translation


@dataclass(frozen=True)
class CueOptions:
    line_chars: int = 42  # per line, Latin scripts (Netflix style guide)
    cjk_line_chars: int = 16  # per line, Chinese / Japanese
    max_lines: int = 2
    min_ms: int = 833  # 5/6 s: shorter cues cannot be read
    linger_ms: int = 500  # a cue may stay up this long after its speech ends
    gap_ms: int = 83  # two frames at 24 fps between consecutive cues


_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+|(?<=[。！？])")
_CLAUSE_END = re.compile(r"(?<=[,;:，、；：])\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u2029]")


def clean_text(text: str) -> str:
    """Model text is untrusted: drop control characters and fold every run of white space (blank lines
    would end an SRT/VTT cue early)."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())


def _halve(piece: str, cjk: bool) -> list[str]:
    """Split an over-long piece near its middle, at a clause or word boundary where there is one."""
    middle = len(piece) // 2
    cuts = [m.end() for m in _CLAUSE_END.finditer(piece) if 0 < m.end() < len(piece)]
    if not cuts and not cjk:
        cuts = [m.start() for m in re.finditer(r"\s", piece)]
    cut = min(cuts, key=lambda c: abs(c - middle)) if cuts else middle
    return [piece[:cut].strip(), piece[cut:].strip()]


def split_text(text: str, max_chars: int, cjk: bool) -> list[str]:
    """Split ``text`` into pieces of at most ``max_chars``: sentences first, then clauses, then words.

    >>> split_text("One. Two three, four five six.", 12, False)
    ['One.', 'Two three,', 'four five', 'six.']
    """
    pending = [s.strip() for s in _SENTENCE_END.split(clean_text(text)) if s.strip()]
    pieces: list[str] = []
    while pending:
        piece = pending.pop(0)
        if len(piece) <= max_chars:
            pieces.append(piece)
        else:
            pending[:0] = [p for p in _halve(piece, cjk) if p]
    return pieces


def wrap_lines(piece: str, line_chars: int, cjk: bool) -> str:
    if cjk:
        return "\n".join(piece[i:i + line_chars] for i in range(0, len(piece), line_chars))
    return "\n".join(textwrap.wrap(piece, line_chars, break_long_words=True)) or piece


def _to_time(spans: Sequence[Span], offset: float, *, at_start: bool) -> int:
    """Map ``offset`` ms of speech time (the spans laid end to end) back onto the media's timeline.
    On a boundary between two spans a start maps to the next span, an end to the previous one."""
    before = 0.0
    for span in spans:
        inside = offset < before + span.duration_ms if at_start else offset <= before + span.duration_ms
        if inside:
            return span.start_ms + round(offset - before)
        before += span.duration_ms
    return spans[-1].end_ms


def place_pieces(pieces: Sequence[str], spans: Sequence[Span]) -> list[Span]:
    """Lay ``pieces`` over ``spans`` in proportion to their length (pure)."""
    total = sum(s.duration_ms for s in spans)
    weights = [max(1, len(p)) for p in pieces]
    scale = total / sum(weights)
    placed, done = [], 0.0
    for weight in weights:
        start, done = done, done + weight * scale
        placed.append(Span(_to_time(spans, start, at_start=True), _to_time(spans, done, at_start=False)))
    return placed


def window_cues(translation: Translation, lang_code: str, options: CueOptions) -> list[Cue]:
    window = translation.window
    cjk = is_cjk(lang_code)
    line_chars = options.cjk_line_chars if cjk else options.line_chars
    pieces = split_text(translation.result.text, line_chars * options.max_lines, cjk)
    if not pieces:
        return []
    spans = window.speech or (Span(window.start_ms, window.end_ms),)
    return [Cue(s.start_ms, s.end_ms, wrap_lines(p, line_chars, cjk)) for p, s in zip(pieces, place_pieces(pieces, spans))]


def _settle(cues: list[Cue], duration_ms: int, options: CueOptions) -> list[Cue]:
    """Give every cue its minimum length and linger, keep a gap before the next, stay inside the media.

    A cue left with too little room to be read (text far longer than its speech) joins the next cue, or
    the previous one at the end, so no text is ever dropped.
    """
    settled: list[Cue] = []
    carry = ""
    for i, cue in enumerate(cues):
        text = f"{carry}\n{cue.text}" if carry else cue.text
        start = max(cue.start_ms, settled[-1].end_ms + options.gap_ms) if settled else cue.start_ms
        limit = cues[i + 1].start_ms - options.gap_ms if i + 1 < len(cues) else duration_ms
        end = min(max(cue.end_ms + options.linger_ms, start + options.min_ms), limit, duration_ms)
        carry = ""
        if end - start >= options.min_ms // 4:
            settled.append(Cue(start, end, text))
        elif i + 1 < len(cues):
            carry = text
        elif settled:
            settled[-1] = Cue(settled[-1].start_ms, settled[-1].end_ms, f"{settled[-1].text}\n{text}")
        elif duration_ms > 0:
            settled.append(Cue(max(0, min(start, duration_ms - 1)), duration_ms, text))
    return settled


def build_cues(translations: Sequence[Translation], lang_code: str, duration_ms: int,
               options: CueOptions = CueOptions()) -> list[Cue]:
    """All cues for a run, on the media's timeline: ordered, non-overlapping, inside [0, duration_ms]."""
    cues = [cue for t in translations for cue in window_cues(t, lang_code, options)]
    return _settle(sorted(cues, key=lambda c: c.start_ms), duration_ms, options)


def to_srt(cues: Sequence[Cue]) -> str:
    items = [srt.Subtitle(i, timedelta(milliseconds=c.start_ms), timedelta(milliseconds=c.end_ms), c.text)
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
