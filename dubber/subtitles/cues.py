"""Translated windows → timed cues on the media's timeline (pure).

Text breaking lives in ``linebreak``, timing inside a window in ``timing``; this module applies them to
every window and settles the cues on the media's timeline by the style rules (see ``timing``).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

from dubber.languages import is_cjk
from dubber.models import Cue, Span, Translation
from dubber.subtitles.linebreak import LineRules, break_lines, clean_text, width
from dubber.subtitles.timing import Draft, TimingRules, fit_text, share_text, window_drafts

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
                joined = last.joined(draft)
                delayed = readable + rules.gap_ms
                room_until = drafts[i + 1].start_ms - rules.gap_ms if i + 1 < len(drafts) else duration_ms
                if width(joined.text) <= lines.cue_chars or draft.start_ms < last.start_ms + rules.min_ms + rules.gap_ms:
                    if width(joined.text) <= lines.cue_chars or delayed + rules.min_ms > room_until:
                        out[-1] = joined
                        continue
                if delayed + rules.min_ms <= room_until:
                    draft = Draft(delayed, max(draft.speech_end_ms, delayed), draft.text, draft.second)
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


def settle(drafts: Sequence[Draft], duration_ms: int, lines: LineRules, rules: TimingRules,
           second_lines: LineRules | None = None) -> list[Cue]:
    """Drafts → cues on the timeline: ordered, disjoint, inside [0, duration_ms], by the style rules.
    A draft's ``second`` text (bilingual cues) goes under its text, broken by ``second_lines``."""
    drafts = _make_room(sorted(drafts, key=lambda d: d.start_ms), duration_ms, lines, rules)
    cues: list[tuple[Cue, Draft]] = []  # each cue with the draft it shows (its fitted text, its source line)
    cut = 0
    for i, draft in enumerate(drafts):
        start = max(draft.start_ms, cues[-1][0].end_ms + rules.gap_ms) if cues else max(0, draft.start_ms)
        next_start = drafts[i + 1].start_ms if i + 1 < len(drafts) else None
        end = _end(draft, start, next_start, duration_ms, rules)
        if 0 < end - start < rules.min_ms:  # the media ends too soon after: start earlier, in the silence
            earliest = cues[-1][0].end_ms + rules.gap_ms if cues else 0
            start = max(earliest, end - rules.min_ms)
            if cues and start - earliest < rules.close_gap_ms - rules.gap_ms:
                start = earliest  # no flicker-short gap before it
        if end - start < rules.min_ms and cues:  # still too short to read: the words join the cue before
            last, shown = cues.pop()
            draft = shown.joined(draft, start_ms=last.start_ms)
            start, end = last.start_ms, max(end, last.end_ms)
        if end <= start:
            continue
        room = min(int((end - start) / 1000 * rules.max_cps), lines.cue_chars)
        text = fit_text(draft.text, room, lines.cjk)
        cut += text != draft.text
        cues.append((Cue(start, end, break_lines(text, lines)), Draft(start, draft.speech_end_ms, text, draft.second)))
    if cut:
        log.warning("%d cue(s) had more text than can be read at %g characters a second in their time; "
                    "they were cut at a word and end with \"…\"", cut, rules.max_cps)
    return [_with_second(cue, shown.second, second_lines or lines) for cue, shown in cues]


def _with_second(cue: Cue, second: str, lines: LineRules) -> Cue:
    return Cue(cue.start_ms, cue.end_ms, f"{cue.text}\n{break_lines(second, lines)}") if second else cue


def build_cues(translations: Sequence[Translation], lang_code: str, duration_ms: int,
               options: CueOptions = CueOptions(), sources: Mapping[int, str] | None = None,
               source_code: str | None = None) -> list[Cue]:
    """All cues for a run, on the media's timeline. ``sources`` (bilingual cues) maps a window's index to
    its source-language text, shown under the translation in the same cues (``source_code``'s rules)."""
    lines = options.lines(lang_code)
    source_lines = options.lines(source_code or "en")
    drafts = []
    for t in translations:
        if t.result.segments:  # the backend timed its own text: each segment is laid on its own time
            window = []
            for seg in t.result.segments:
                span = Span(seg.start_ms, seg.end_ms).shifted(t.window.start_ms)
                window += window_drafts(seg.text, (span,), lines, options.timing)
        else:
            spans = t.window.speech or (Span(t.window.start_ms, t.window.end_ms),)
            window = window_drafts(t.result.text, spans, lines, options.timing)
        drafts += _add_source(window, (sources or {}).get(t.window.index, ""), source_lines.cjk)
    return settle(drafts, duration_ms, lines, options.timing, source_lines)


def _add_source(drafts: list[Draft], source: str, cjk: bool) -> list[Draft]:
    """A window's source text shared across its drafts in proportion to their text, cut at the best
    boundaries, so each translated piece carries the words it translates (as near as proportion gets)."""
    source = clean_text(source)
    if not drafts or not source:
        return drafts
    parts = share_text(source, [max(1, width(d.text)) for d in drafts], cjk)
    return [replace(d, second=part) for d, part in zip(drafts, parts)]
