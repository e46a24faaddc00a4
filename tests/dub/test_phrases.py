"""A window's dubbed clip split on its phrases (pure): property tests and worked cases."""
from __future__ import annotations

import doctest

from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.dub import phrases
from dubber.dub.phrases import split_clip, window_parts
from dubber.dub.timeline import Clip, FitOptions, fit_timeline
from dubber.models import Span, Window
from dubber.subtitles.timing import TimingRules, group_phrases


@st.composite
def spans_in(draw, low: int, high: int, max_count: int = 20) -> list[Span]:
    """Sorted, disjoint, non-empty spans inside ``[low, high)``."""
    edges = sorted(set(draw(st.lists(st.integers(low, high), max_size=2 * max_count))))
    return [Span(a, b) for a, b in zip(edges[::2], edges[1::2]) if b > a]


@st.composite
def clips(draw):
    """A clip's length, its voiced runs, and a window's phrases (non-empty groups of speech spans)."""
    length = draw(st.integers(1, 30_000))
    runs = draw(spans_in(0, length))
    speech = draw(spans_in(0, 60_000))
    assume_speech = speech or [Span(0, 1000)]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(assume_speech) - 1)), max_size=8)))
    groups = [assume_speech[a:b] for a, b in zip([0, *cuts], [*cuts, len(assume_speech)]) if assume_speech[a:b]]
    return length, runs, groups


def _inside(point: int, run: Span) -> bool:
    return run.start_ms < point < run.end_ms


@settings(max_examples=500, deadline=None)
@given(clips())
def test_parts_cover_the_speech_in_order_cut_only_in_pauses_and_start_on_phrases(case):
    length, runs, groups = case
    parts = split_clip(7, length, runs, groups)
    voiced = runs or [Span(0, length)]
    assert len(parts) == min(len(voiced), len(groups))
    assert [p.part for p in parts] == list(range(len(parts))) and all(p.index == 7 for p in parts)
    # in order, and together the whole clip's speech: from its start to its end, every run in one part
    assert parts[0].offset_ms == 0 and parts[-1].offset_ms + parts[-1].length_ms == length
    for before, after in zip(parts, parts[1:]):
        assert before.offset_ms + before.length_ms <= after.offset_ms
    for run in voiced:
        assert sum(p.offset_ms <= run.start_ms and run.end_ms <= p.offset_ms + p.length_ms for p in parts) == 1
    # never cut inside a voiced run
    for p in parts:
        assert p.length_ms > 0
        assert not any(_inside(p.offset_ms, r) or _inside(p.offset_ms + p.length_ms, r) for r in voiced)
    # each part starts on its own phrase's onset, the first on the window's; enough runs: every phrase
    onsets = [g[0].start_ms for g in groups]
    assert parts[0].onset_ms == onsets[0]
    assert all(p.onset_ms in onsets for p in parts)
    assert all(a.onset_ms < b.onset_ms for a, b in zip(parts, parts[1:]))
    if len(voiced) >= len(groups):
        assert [p.onset_ms for p in parts] == onsets


@settings(max_examples=200, deadline=None)
@given(clips())
def test_one_phrase_gives_the_whole_clip_as_before(case):
    length, runs, groups = case
    speech = tuple(s for g in groups for s in g)
    window = Window(3, speech[0].start_ms, speech[-1].end_ms, speech)
    rules = TimingRules(phrase_pause_ms=10**9)  # no pause starts a phrase: the window is one phrase
    assert window_parts(window, length, runs, rules) == (Clip(3, speech[0].start_ms, length),)


@settings(max_examples=200, deadline=None)
@given(clips(), st.integers(0, 500))
def test_window_parts_follow_the_subtitles_phrases_and_fit_without_overlap(case, gap_ms):
    length, runs, groups = case
    speech = tuple(s for g in groups for s in g)
    window = Window(0, speech[0].start_ms, speech[-1].end_ms, speech)
    rules = TimingRules()
    parts = window_parts(window, length, runs, rules)
    onsets = [g[0].start_ms for g in group_phrases(speech, rules)]
    assert all(p.onset_ms in onsets for p in parts) and parts[0].onset_ms == speech[0].start_ms
    plan = fit_timeline(parts, speech[-1].end_ms + 5000, FitOptions(gap_ms=gap_ms))
    for before, after in zip(plan, plan[1:]):  # no part plays into the next one's phrase
        assert before.end_ms <= after.start_ms and before.slot_end_ms <= max(before.start_ms, after.start_ms - gap_ms)


def test_speech_is_shared_in_proportion_at_the_nearest_pause():
    # ten 400 ms words 100 ms apart; phrases of 1 s and 4 s of speech: the first fifth (980 ms) goes first
    runs = [Span(i * 500, i * 500 + 400) for i in range(10)]
    parts = split_clip(0, 4900, runs, [[Span(10_000, 11_000)], [Span(12_000, 16_000)]])
    assert [(p.onset_ms, p.offset_ms, p.length_ms) for p in parts] == [(10_000, 0, 900), (12_000, 1000, 3900)]
    # 1 s and 3 s: the share ends at 1225 ms, 175 ms from the pause at 1400 and 225 ms from the one at 1000
    parts = split_clip(0, 4900, runs, [[Span(10_000, 11_000)], [Span(12_000, 15_000)]])
    assert [p.offset_ms for p in parts] == [0, 1500]


def test_a_long_pause_wins_over_a_word_gap_a_little_nearer():
    # the share ends at 1540 ms: 115 ms from the middle of a word gap (1400-1450), 250 ms from the middle of
    # a sentence pause (1580-2000), but 40 ms from the pause's edge and 90 ms from the gap's
    runs = [Span(0, 1400), Span(1450, 1580), Span(2000, 3200)]
    parts = split_clip(0, 3200, runs, [[Span(0, 1540)], [Span(2000, 3660)]])
    assert [p.offset_ms for p in parts] == [0, 2000]


def test_fewer_runs_than_phrases_go_to_the_nearest_phrases():
    # two runs, three equal phrases: the second run starts at 60% of the clip, nearest the third phrase
    runs = [Span(0, 1700), Span(1900, 3000)]
    groups = [[Span(0, 1000)], [Span(2000, 3000)], [Span(4000, 5000)]]
    assert [p.onset_ms for p in split_clip(0, 3000, runs, groups)] == [0, 4000]


def test_a_clip_with_no_runs_found_is_one_part():
    assert split_clip(2, 800, [], [[Span(100, 200)], [Span(900, 1500)]]) == (Clip(2, 100, 800),)


def test_doctests():
    result = doctest.testmod(phrases)
    assert result.attempted > 0 and result.failed == 0, result  # no example at all would pass unseen
