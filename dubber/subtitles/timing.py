"""Timing cues inside a window, and settling them on the timeline (pure).

The service gives one block of text per window and no timestamps inside it. The window's speech spans are
grouped into phrases at pauses (``phrase_pause_ms``); the text is shared between phrases in proportion to
their speech, cut at the sentence, clause or word boundary nearest each share, so every phrase (every
sentence after a pause) gets a cue that starts on its onset. Inside a phrase, pieces are laid over the
speech in proportion to their length.

Settling then applies the style rules: a cue lasts between ``min_ms`` and ``max_ms``, may linger
``linger_ms`` after its speech, is extended into the following silence (never over the next speech) until
it reads at ``target_cps`` or slower, keeps ``gap_ms`` before the next cue, and gaps shorter than
``close_gap_ms`` are closed to ``gap_ms``. Text that cannot be shown at ``max_cps`` even then (a
translation far longer than its speech) is kept whole and reported (see ``cues``); only on request is it
cut at a word boundary and ended with "…" (``fit_text``).

The numbers are the style guide's: the reading speeds come from the cue language's profile, the gap is two
frames at the input's frame rate (``two_frames_ms``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from dubber.models import Span
from dubber.subtitles.linebreak import LineRules, best_cut, clean_text, fitting_prefix, split_to_fit, width


def two_frames_ms(fps: float) -> int:
    """The guide's minimum gap between cues, two frames, in whole ms rounded up so it is never less.

    >>> two_frames_ms(24), two_frames_ms(25), two_frames_ms(30000 / 1001), two_frames_ms(60)
    (84, 80, 67, 34)
    """
    return math.ceil(2000 / fps)


@dataclass(frozen=True)
class TimingRules:
    min_ms: int = 833  # 5/6 s
    max_ms: int = 7000
    target_cps: float = 17.0
    max_cps: float = 20.0
    gap_ms: int = 84  # two frames at 24 fps (see CueOptions.rules for the input's own rate)
    close_gap_ms: int = 500
    linger_ms: int = 500
    phrase_pause_ms: int = 350  # detected pauses this long inside a window start a new cue


@dataclass(frozen=True)
class Draft:
    """A cue before settling: where its speech starts and ends, and its text. ``second`` is the same
    speech's source text in a bilingual cue (shown under the translation; reading speed ignores it)."""

    start_ms: int
    speech_end_ms: int
    text: str
    second: str = ""
    # Who says it (``--speakers``): each speaker's part of ``text`` in order; empty when speakers are unknown.
    turns: tuple[tuple[int, str], ...] = ()

    def joined(self, other: "Draft", start_ms: int | None = None, sep: str = " ") -> "Draft":
        """This draft and the next one as one cue from ``start_ms`` (default: this one's start); ``sep`` is
        what goes between their words ("" in Chinese and Japanese). Two speakers' drafts make a dialogue."""
        return Draft(self.start_ms if start_ms is None else start_ms, max(self.speech_end_ms, other.speech_end_ms),
                     f"{self.text}{sep}{other.text}", _join(self.second, other.second),
                     _join_turns(self.turns, other.turns, sep))


def _join(a: str, b: str) -> str:
    return f"{a} {b}".strip()


def _join_turns(a: tuple[tuple[int, str], ...], b: tuple[tuple[int, str], ...],
                sep: str) -> tuple[tuple[int, str], ...]:
    """Two drafts' turns as one: the same speaker's words run on, another speaker's make a new turn.

    >>> _join_turns(((1, "Hi."),), ((1, "Yes."), (2, "No.")), " ")
    ((1, 'Hi. Yes.'), (2, 'No.'))
    """
    if a and b and a[-1][0] == b[0][0]:
        return (*a[:-1], (a[-1][0], f"{a[-1][1]}{sep}{b[0][1]}"), *b[1:])
    return (*a, *b)


def group_phrases(spans: Sequence[Span], rules: TimingRules) -> list[list[Span]]:
    """Group speech spans at pauses; a phrase too short to hold a readable cue before the next joins it."""
    phrases: list[list[Span]] = []
    for span in spans:
        if phrases and span.start_ms - phrases[-1][-1].end_ms < rules.phrase_pause_ms:
            phrases[-1].append(span)
        elif phrases and span.start_ms - phrases[-1][0].start_ms < rules.min_ms + rules.gap_ms:
            phrases[-1].append(span)
        else:
            phrases.append([span])
    return phrases


def share_text(text: str, weights: Sequence[float], script: str) -> list[str]:
    """Cut ``text`` into ``len(weights)`` segments in proportion to ``weights``, at the best boundaries."""
    total, segments, rest = sum(weights), [], text
    for i, weight in enumerate(weights[:-1]):
        remaining = sum(weights[i:])
        cut = best_cut(rest, len(rest) * weight / remaining, script) if remaining else None
        cut = cut if cut is not None else len(rest)
        segments.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return segments + [rest.strip()] if total else [text]


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
    """Lay ``pieces`` over ``spans`` in proportion to their width."""
    total = sum(s.duration_ms for s in spans)
    weights = [max(1, width(p)) for p in pieces]
    scale = total / sum(weights)
    placed, done = [], 0.0
    for weight in weights:
        start, done = done, done + weight * scale
        placed.append(Span(_to_time(spans, start, at_start=True), _to_time(spans, done, at_start=False)))
    return placed


def _phrase_pieces(text: str, spans: Sequence[Span], lines: LineRules, rules: TimingRules) -> list[str]:
    """A phrase's text in cue-sized pieces: no wider than a cue, and enough of them that none must span
    more than ``max_ms`` of speech."""
    pieces = split_to_fit(text, lines)
    speech_ms = spans[-1].end_ms - spans[0].start_ms
    wanted = min(math.ceil(speech_ms / rules.max_ms), max(1, int(width(text) // 8)))
    while pieces and len(pieces) < wanted:
        longest = max(range(len(pieces)), key=lambda i: width(pieces[i]))
        cut = best_cut(pieces[longest], len(pieces[longest]) / 2, lines.script)
        if cut is None:
            break
        piece = pieces[longest]
        pieces[longest:longest + 1] = [piece[:cut].strip(), piece[cut:].strip()]
    return pieces


def window_drafts(text: str, spans: Sequence[Span], lines: LineRules, rules: TimingRules) -> list[Draft]:
    """One window's text laid over its speech spans."""
    text = clean_text(text)
    if not text or not spans:
        return []
    phrases = group_phrases(spans, rules)
    segments = share_text(text, [sum(s.duration_ms for s in p) for p in phrases], lines.script)
    while len(phrases) > 1 and not all(segments):  # a phrase left without words joins its neighbour
        empty = segments.index("")
        into = empty - 1 if empty > 0 else 1
        phrases[min(empty, into)] = sorted(phrases[empty] + phrases[into], key=lambda s: s.start_ms)
        del phrases[max(empty, into)]
        segments = share_text(text, [sum(s.duration_ms for s in p) for p in phrases], lines.script)
    drafts = []
    for phrase, segment in zip(phrases, segments):
        pieces = _phrase_pieces(segment, phrase, lines, rules)
        if pieces:
            drafts += [Draft(s.start_ms, s.end_ms, p) for p, s in zip(pieces, place_pieces(pieces, phrase))]
    return drafts


def fit_text(text: str, room: float, lines: LineRules) -> str:
    """``text`` if it is at most ``room`` wide, else cut at a word boundary and ended with "…" (only on
    request: ``CueOptions.cut_overlong``); a cut never parts a grapheme cluster."""
    if lines.measure(text) <= room:
        return text
    cut = best_cut(text, max(1, room - 1), lines.script, reach=0.0)
    while cut is not None and lines.measure(text[:cut].rstrip()) + 1 > room:
        cut = best_cut(text[:cut].rstrip(), max(1, room - 1), lines.script, reach=0.0)
    kept = text[:cut] if cut else text[:fitting_prefix(text, max(0, room - 1), lines.half_width)]
    return kept.rstrip(" ,;:") + "…"
