"""Translated windows → timed cues (pure), and cues → SRT / WebVTT text.

Text breaking lives in ``linebreak``, timing inside a window in ``cuetiming``; this module applies them to
every window and settles the cues on the media's timeline by the style rules (see ``cuetiming``).
"""
from __future__ import annotations

import html
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable, Sequence

import srt
import webvtt

from dubber.cuetiming import Draft, TimingRules, fit_text, window_drafts
from dubber.languages import is_cjk
from dubber.linebreak import LineRules, break_lines, width
from dubber.models import Cue, Span, Translation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CueOptions:
    line_chars: int = 42  # per line, Latin and other spaced scripts (Netflix style guide)
    cjk_line_chars: int = 16  # per line, Chinese / Japanese
    max_lines: int = 2
    timing: TimingRules = field(default_factory=TimingRules)

    def lines(self, lang_code: str) -> LineRules:
        cjk = is_cjk(lang_code)
        return LineRules(self.cjk_line_chars if cjk else self.line_chars, self.max_lines, cjk, lang_code)


def _make_room(drafts: list[Draft], duration_ms: int, lines: LineRules, rules: TimingRules) -> list[Draft]:
    """Drafts that start too soon after the one before to let it be read: joined with it when the text fits
    one cue; else delayed until it could be read at ``max_cps``, if the silence before the next draft has
    room; else joined anyway when not even ``min_ms`` is left. Text still too long is cut later."""
    out: list[Draft] = []
    for i, draft in enumerate(drafts):
        if out:
            last = out[-1]
            readable = last.start_ms + max(rules.min_ms, math.ceil(width(last.text) / rules.max_cps * 1000))
            if draft.start_ms < readable + rules.gap_ms:
                joined = Draft(last.start_ms, max(last.speech_end_ms, draft.speech_end_ms), f"{last.text} {draft.text}")
                delayed = readable + rules.gap_ms
                room_until = drafts[i + 1].start_ms - rules.gap_ms if i + 1 < len(drafts) else duration_ms
                if width(joined.text) <= lines.cue_chars or draft.start_ms < last.start_ms + rules.min_ms + rules.gap_ms:
                    if width(joined.text) <= lines.cue_chars or delayed + rules.min_ms > room_until:
                        out[-1] = joined
                        continue
                if delayed + rules.min_ms <= room_until:
                    draft = Draft(delayed, max(draft.speech_end_ms, delayed), draft.text)
        out.append(draft)
    return out


def _end(draft: Draft, start: int, next_start: int | None, duration_ms: int, rules: TimingRules) -> int:
    """Where a cue ends: linger, minimum length and reading speed, within the room before the next cue."""
    limit = min(duration_ms if next_start is None else next_start - rules.gap_ms, start + rules.max_ms)
    reading = start + math.ceil(width(draft.text) / rules.target_cps * 1000)
    end = min(max(draft.speech_end_ms + rules.linger_ms, start + rules.min_ms, reading), limit)
    if next_start is not None and next_start - end < rules.close_gap_ms:
        # a flicker-short gap is closed to the minimum, or widened when the cue may not grow that long
        end = next_start - rules.gap_ms if next_start - rules.gap_ms <= limit else next_start - rules.close_gap_ms
    return end


def settle(drafts: Sequence[Draft], duration_ms: int, lines: LineRules, rules: TimingRules) -> list[Cue]:
    """Drafts → cues on the timeline: ordered, disjoint, inside [0, duration_ms], by the style rules."""
    drafts = _make_room(sorted(drafts, key=lambda d: d.start_ms), duration_ms, lines, rules)
    cues: list[Cue] = []
    cut = 0
    for i, draft in enumerate(drafts):
        start = max(draft.start_ms, cues[-1].end_ms + rules.gap_ms) if cues else max(0, draft.start_ms)
        next_start = drafts[i + 1].start_ms if i + 1 < len(drafts) else None
        end = _end(draft, start, next_start, duration_ms, rules)
        if 0 < end - start < rules.min_ms:  # the media ends too soon after: start earlier, in the silence
            earliest = cues[-1].end_ms + rules.gap_ms if cues else 0
            start = max(earliest, end - rules.min_ms)
            if cues and start - earliest < rules.close_gap_ms - rules.gap_ms:
                start = earliest  # no flicker-short gap before it
        if end - start < rules.min_ms and cues:  # still too short to read: the words join the cue before
            last = cues.pop()
            draft = Draft(last.start_ms, draft.speech_end_ms, f"{last.text.replace(chr(10), ' ')} {draft.text}")
            start, end = last.start_ms, max(end, last.end_ms)
        if end <= start:
            continue
        room = min(int((end - start) / 1000 * rules.max_cps), lines.cue_chars)
        text = fit_text(draft.text, room, lines.cjk)
        cut += text != draft.text
        cues.append(Cue(start, end, break_lines(text, lines)))
    if cut:
        log.warning("%d cue(s) had more text than can be read at %g characters a second in their time; "
                    "they were cut at a word and end with \"…\"", cut, rules.max_cps)
    return cues


def build_cues(translations: Sequence[Translation], lang_code: str, duration_ms: int,
               options: CueOptions = CueOptions()) -> list[Cue]:
    """All cues for a run, on the media's timeline."""
    lines = options.lines(lang_code)
    drafts = []
    for t in translations:
        if t.result.segments:  # the backend timed its own text: each segment is laid on its own time
            for seg in t.result.segments:
                span = Span(seg.start_ms, seg.end_ms).shifted(t.window.start_ms)
                drafts += window_drafts(seg.text, (span,), lines, options.timing)
            continue
        spans = t.window.speech or (Span(t.window.start_ms, t.window.end_ms),)
        drafts += window_drafts(t.result.text, spans, lines, options.timing)
    return settle(drafts, duration_ms, lines, options.timing)


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
