"""Translated windows → timed cues on the media's timeline (pure).

Text breaking lives in ``linebreak``, timing inside a window in ``timing``, each language's numbers in
``profiles``; this module applies them to every window and settles the cues on the media's timeline by the
style rules (see ``timing``).

No word is lost: every word the service returned is in the cues, in order. A cue that still reads faster
than its language's limit after taking the silence after it is kept whole and reported (``Overlong``; one
warning line for the run). Text wider than a cue's two lines is split into more cues when its time holds
them all at the minimum duration, and otherwise takes a third line: a viewer can pause on a crowded cue,
but not recover a dropped word. Cutting with "…" happens only on request (``cut_overlong``).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

from dubber.models import Cue, Span, Translation
from dubber.subtitles.linebreak import LineRules, break_lines, clean_text, split_to_fit
from dubber.subtitles.profiles import CJK, Profile, profile
from dubber.subtitles.timing import Draft, TimingRules, fit_text, share_text, two_frames_ms, window_drafts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CueOptions:
    """How cues are made. Line lengths and reading speeds come from the cue language's profile; the gap is
    two frames at ``frame_rate`` (the input's, set by the job); ``timing`` holds the rest."""

    timing: TimingRules = field(default_factory=TimingRules)
    frame_rate: float = 24.0
    cut_overlong: bool = False  # cut text too long to read in its time with "…" instead of reporting it

    def at_frame_rate(self, fps: float) -> "CueOptions":
        return replace(self, frame_rate=fps)

    def lines(self, lang_code: str | None) -> LineRules:
        p = profile(lang_code)
        return LineRules(p.line_chars, p.max_lines, p.script, p.code, p.half_width)

    def rules(self, lang_code: str | None) -> TimingRules:
        p = profile(lang_code)
        return replace(self.timing, target_cps=p.target_cps, max_cps=p.max_cps, gap_ms=two_frames_ms(self.frame_rate))


@dataclass(frozen=True)
class Overlong:
    """A cue kept whole although it breaks a rule: read faster than ``limit``, or on more than two lines."""

    cue: int  # 1-based, as SRT numbers it
    cps: float
    limit: float
    lines: int


@dataclass(frozen=True)
class CueTrack:
    cues: tuple[Cue, ...]
    overlong: tuple[Overlong, ...]
    profile: Profile


def _sep(lines: LineRules) -> str:
    return "" if lines.script == CJK else " "


def _make_room(drafts: list[Draft], duration_ms: int, lines: LineRules, rules: TimingRules) -> list[Draft]:
    """Drafts that start too soon after the one before to let it be read: joined with it when the text fits
    one cue; else delayed until it could be read at ``max_cps``, if the silence before the next draft has
    room; else joined anyway when not even ``min_ms`` is left."""
    out: list[Draft] = []
    for i, draft in enumerate(drafts):
        if out:
            last = out[-1]
            readable = last.start_ms + max(rules.min_ms, math.ceil(lines.measure(last.text) / rules.max_cps * 1000))
            if draft.start_ms < readable + rules.gap_ms:
                joined = last.joined(draft, sep=_sep(lines))
                delayed = readable + rules.gap_ms
                room_until = drafts[i + 1].start_ms - rules.gap_ms if i + 1 < len(drafts) else duration_ms
                fits = lines.measure(joined.text) <= lines.cue_chars
                if fits or draft.start_ms < last.start_ms + rules.min_ms + rules.gap_ms:
                    if fits or delayed + rules.min_ms > room_until:
                        out[-1] = joined
                        continue
                start = delayed if delayed + rules.min_ms <= room_until else _balanced(last, draft, room_until, lines, rules)
                if start > draft.start_ms:
                    draft = Draft(start, max(draft.speech_end_ms, start), draft.text, draft.second)
        out.append(draft)
    return out


def _balanced(last: Draft, draft: Draft, room_until: int, lines: LineRules, rules: TimingRules) -> int:
    """Where ``draft`` starts when neither it nor ``last`` can be read in time: the point at which both read
    equally fast, so neither is crowded while the other has time to spare (never before its own onset)."""
    before, after = max(1.0, lines.measure(last.text)), max(1.0, lines.measure(draft.text))
    start = round((before * room_until + after * (last.start_ms + rules.gap_ms)) / (before + after))
    return min(max(start, draft.start_ms, last.start_ms + rules.min_ms + rules.gap_ms), room_until - rules.min_ms)


def _end(draft: Draft, start: int, next_start: int | None, duration_ms: int, lines: LineRules,
         rules: TimingRules) -> int:
    """Where a cue ends: linger, minimum length and reading speed, within the room before the next cue."""
    limit = min(duration_ms if next_start is None else next_start - rules.gap_ms, start + rules.max_ms)
    reading = start + math.ceil(lines.measure(draft.text) / rules.target_cps * 1000)
    end = min(max(draft.speech_end_ms + rules.linger_ms, start + rules.min_ms, reading), limit)
    if next_start is not None and next_start - end < rules.close_gap_ms:
        # a flicker-short gap is closed to the minimum, or widened when the cue may not grow that long
        end = next_start - rules.gap_ms if next_start - rules.gap_ms <= limit else next_start - rules.close_gap_ms
    return end


def _settle(drafts: Sequence[Draft], duration_ms: int, lines: LineRules, rules: TimingRules,
            cut_overlong: bool) -> list[tuple[Cue, Draft]]:
    """Drafts → (cue, the draft it shows) on the timeline: ordered, disjoint, inside [0, duration_ms]. A draft
    left no time of its own joins the cue before it (or, first of all, the draft after it): none is dropped."""
    drafts = _make_room(sorted(drafts, key=lambda d: d.start_ms), duration_ms, lines, rules)
    cues: list[tuple[Cue, Draft]] = []
    carried: Draft | None = None
    for i, draft in enumerate(drafts):
        if carried is not None:
            draft, carried = carried.joined(draft, start_ms=draft.start_ms, sep=_sep(lines)), None
        start = max(draft.start_ms, cues[-1][0].end_ms + rules.gap_ms) if cues else max(0, draft.start_ms)
        next_start = drafts[i + 1].start_ms if i + 1 < len(drafts) else None
        end = _end(draft, start, next_start, duration_ms, lines, rules)
        if 0 < end - start < rules.min_ms:  # the media ends too soon after: start earlier, in the silence
            earliest = cues[-1][0].end_ms + rules.gap_ms if cues else 0
            start = max(earliest, end - rules.min_ms)
            if cues and start - earliest < rules.close_gap_ms - rules.gap_ms:
                start = earliest  # no flicker-short gap before it
        if end - start < rules.min_ms and cues:  # still too short to read: the words join the cue before
            last, shown = cues.pop()
            draft = shown.joined(draft, start_ms=last.start_ms, sep=_sep(lines))
            start, end = last.start_ms, max(end, last.end_ms)
        if end <= start:
            carried = draft  # no time at all (the media's first instant): the words go with the next draft
            continue
        if cut_overlong and len(draft.turns) < 2:  # a dialogue is two speakers' words: never cut
            room = min(int((end - start) / 1000 * rules.max_cps), lines.cue_chars)
            text = fit_text(draft.text, room, lines)
            draft = replace(draft, text=text, turns=tuple((speaker, text) for speaker, _ in draft.turns))
        cues.append((Cue(start, end, draft.text), replace(draft, start_ms=start)))
    if carried is not None:  # nothing came after it: shown where it is, however short
        start = max(0, min(carried.start_ms, duration_ms - rules.min_ms))
        cues.append((Cue(start, max(start + 1, min(duration_ms, start + rules.min_ms)), carried.text), carried))
    return cues


def _spread(cue: Cue, shown: Draft, lines: LineRules, rules: TimingRules) -> list[tuple[Cue, Draft]]:
    """A cue wider than its lines, as several cues sharing its time in proportion to their text, when that
    time holds them all at the minimum duration (a bilingual cue keeps its source line whole: unchanged)."""
    pieces = split_to_fit(shown.text, lines) if lines.measure(shown.text) > lines.cue_chars else []
    spare = cue.end_ms - cue.start_ms - len(pieces) * rules.min_ms - (len(pieces) - 1) * rules.gap_ms
    if len(pieces) < 2 or spare < 0 or shown.second or len(shown.turns) > 1:
        return [(cue, shown)]
    weights = [lines.measure(p) for p in pieces]
    out, start = [], cue.start_ms
    for piece, weight in zip(pieces, weights):
        end = start + rules.min_ms + int(spare * weight / sum(weights))
        turns = tuple((speaker, piece) for speaker, _ in shown.turns)
        out.append((Cue(start, end, piece), replace(shown, start_ms=start, text=piece, turns=turns)))
        start = end + rules.gap_ms
    last, piece = out[-1]
    out[-1] = (replace(last, end_ms=cue.end_ms), piece)  # rounding leaves the last a few ms short
    return out


def _overlong(cues: Sequence[tuple[Cue, Draft]], lines: LineRules, rules: TimingRules) -> list[Overlong]:
    out = []
    for number, (cue, shown) in enumerate(cues, start=1):
        cps = lines.measure(shown.text) / max(0.001, (cue.end_ms - cue.start_ms) / 1000)
        count = len(break_lines(shown.text, lines).split("\n"))
        if cps > rules.max_cps + 1e-9 or count > lines.max_lines:
            out.append(Overlong(number, round(cps, 1), rules.max_cps, count))
    return out


def _warn(overlong: Sequence[Overlong], p: Profile) -> None:
    fast = [o for o in overlong if o.cps > o.limit]
    if fast:
        listed = ", ".join(f"{o.cue} ({o.cps:g})" for o in fast[:20]) + (", ..." if len(fast) > 20 else "")
        log.warning("%d %s faster than the %s limit of %g characters a second: %s", len(fast),
                    "cue reads" if len(fast) == 1 else "cues read", p.name, p.max_cps, listed)
    crowded = [o for o in overlong if o.lines > p.max_lines]
    if crowded:
        log.warning("%d cue%s kept on more than %d lines so that no word is lost: %s", len(crowded),
                    "" if len(crowded) == 1 else "s", p.max_lines, ", ".join(str(o.cue) for o in crowded[:20]))


# The dialogue dash that opens each speaker's part of a cue two speakers share: a hyphen without a space
# (Netflix's English, German, Spanish, ... guides); French sets a space after it.
_DASH = {"fr": "- "}


def speaker_name(speaker: int) -> str:
    """How the subtitle formats name a speaker (WebVTT's voice spans, ASS's Name field)."""
    return f"Speaker {speaker}"


def _with_second(cue: Cue, shown: Draft, lines: LineRules, second_lines: LineRules) -> Cue:
    if len(shown.turns) > 1:  # a dialogue: each speaker's words on their own lines, each opened by a dash
        dash = _DASH.get(lines.lang, "-")
        turns = tuple((speaker, dash + break_lines(words, lines)) for speaker, words in shown.turns)
        text = "\n".join(part for _, part in turns)
    else:
        text = break_lines(shown.text, lines)
        turns = tuple((speaker, text) for speaker, _ in shown.turns)
    return replace(cue, text=f"{text}\n{break_lines(shown.second, second_lines)}" if shown.second else text,
                   turns=turns)


def build_cue_track(translations: Sequence[Translation], lang_code: str, duration_ms: int,
                    options: CueOptions = CueOptions(), sources: Mapping[int, str] | None = None,
                    source_code: str | None = None) -> CueTrack:
    """All cues for a run, on the media's timeline, and the ones kept whole against a rule. ``sources``
    (bilingual cues) maps a window's index to its source-language text, shown under the translation in the
    same cues (``source_code``'s rules)."""
    lines, rules = options.lines(lang_code), options.rules(lang_code)
    source_lines = options.lines(source_code or "en")
    drafts = []
    for t in translations:
        if t.result.segments:  # the backend timed its own text: each segment is laid on its own time
            window = []
            for seg in t.result.segments:
                span = Span(seg.start_ms, seg.end_ms).shifted(t.window.start_ms)
                window += window_drafts(seg.text, (span,), lines, rules)
        else:
            spans = t.window.speech or (Span(t.window.start_ms, t.window.end_ms),)
            window = window_drafts(t.result.text, spans, lines, rules)
        if t.window.speaker is not None:
            window = [replace(d, turns=((t.window.speaker, d.text),)) for d in window]
        drafts += _add_source(window, (sources or {}).get(t.window.index, ""), source_lines.script)
    settled = [piece for cue, shown in _settle(drafts, duration_ms, lines, rules, options.cut_overlong)
               for piece in _spread(cue, shown, lines, rules)]
    overlong = _overlong(settled, lines, rules)
    _warn(overlong, profile(lang_code))
    cues = tuple(_with_second(cue, shown, lines, source_lines) for cue, shown in settled)
    return CueTrack(cues, tuple(overlong), profile(lang_code))


def build_cues(translations: Sequence[Translation], lang_code: str, duration_ms: int,
               options: CueOptions = CueOptions(), sources: Mapping[int, str] | None = None,
               source_code: str | None = None) -> list[Cue]:
    """The cues of ``build_cue_track`` (which see), for callers that need no report."""
    return list(build_cue_track(translations, lang_code, duration_ms, options, sources, source_code).cues)


def _add_source(drafts: list[Draft], source: str, script: str) -> list[Draft]:
    """A window's source text shared across its drafts in proportion to their text, cut at the best
    boundaries, so each translated piece carries the words it translates (as near as proportion gets)."""
    source = clean_text(source)
    if not drafts or not source:
        return drafts
    parts = share_text(source, [max(1, len(d.text)) for d in drafts], script)
    return [replace(d, second=part) for d, part in zip(drafts, parts)]
