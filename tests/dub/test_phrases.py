"""A window's dubbed clip split on its utterances (pure): property tests and worked cases."""
from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.dub.phrases import EDGE_MS, FRAME_MS, split_clip, window_parts, with_soft_cuts
from dubber.dub.timeline import FitOptions, fit_timeline
from dubber.models import Span, Window
from dubber.subtitles.timing import TimingRules, group_phrases

CUTTABLE_MS = 2 * EDGE_MS + FRAME_MS  # the shortest run a soft cut can split


@st.composite
def spans_in(draw, low: int, high: int, max_count: int = 20) -> list[Span]:
    """Sorted, disjoint, non-empty spans inside ``[low, high)``."""
    edges = sorted(set(draw(st.lists(st.integers(low, high), max_size=2 * max_count))))
    return [Span(a, b) for a, b in zip(edges[::2], edges[1::2]) if b > a]


@st.composite
def clips(draw, max_runs: int = 20):
    """A clip's length, its voiced runs (at most ``max_runs``), a window's utterances (at least one) and,
    maybe, the clip's level per frame."""
    length = draw(st.integers(1, 30_000))
    runs = draw(spans_in(0, length, max_runs))
    speech = draw(spans_in(0, 60_000)) or [Span(0, 1000)]
    frames = math.ceil(length / FRAME_MS)
    levels = draw(st.one_of(st.just([]), st.lists(st.floats(-90, 0), min_size=frames, max_size=frames)))
    return length, runs, speech, levels


def _cuts(parts) -> list[tuple[int, int]]:
    """The cuts between parts: where each part ends and the next starts, in the clip."""
    return [(a.offset_ms + a.length_ms, b.offset_ms) for a, b in zip(parts, parts[1:])]


@settings(max_examples=500, deadline=None)
@given(st.one_of(clips(), clips(max_runs=3)))
def test_parts_are_in_order_cover_the_clip_and_start_on_utterances(case):
    length, runs, speech, levels = case
    parts = split_clip(7, length, runs, speech, levels)
    voiced = runs or [Span(0, length)]
    assert 1 <= len(parts) <= len(speech)
    assert [p.part for p in parts] == list(range(len(parts))) and all(p.index == 7 for p in parts)
    # in order, disjoint, and together the whole clip but for the pauses they are cut at
    assert parts[0].offset_ms == 0 and parts[-1].offset_ms + parts[-1].length_ms == length
    assert all(p.length_ms > 0 for p in parts)
    for end, start in _cuts(parts):
        assert end <= start
        assert not any(end < r.start_ms < start or end < r.end_ms < start for r in voiced)  # no sound dropped
        inside = [r for r in voiced if r.start_ms < end < r.end_ms]  # a soft cut: a point, clear of the run's ends
        assert not inside or (end == start and end - inside[0].start_ms >= EDGE_MS
                              and inside[0].end_ms - end >= EDGE_MS)
    # each part starts on its own utterance's onset, the first on the window's, in order
    onsets = [s.start_ms for s in speech]
    assert parts[0].onset_ms == onsets[0]
    assert all(p.onset_ms in onsets for p in parts)
    assert all(a.onset_ms < b.onset_ms for a, b in zip(parts, parts[1:]))


@settings(max_examples=500, deadline=None)
@given(st.one_of(clips(), clips(max_runs=3)))  # few runs: often fewer than the utterances
def test_every_utterance_gets_a_part_when_the_clip_has_sound_enough_to_cut(case):
    length, runs, speech, levels = case
    voiced = runs or [Span(0, length)]
    # each run can be cut into pieces under CUTTABLE_MS at most: that many pieces or more
    if sum(math.ceil(r.duration_ms / CUTTABLE_MS) for r in voiced) >= len(speech):
        parts = split_clip(0, length, runs, speech, levels)
        assert [p.onset_ms for p in parts] == [s.start_ms for s in speech]


@settings(max_examples=200, deadline=None)
@given(clips())
def test_one_utterance_gives_the_whole_clip_as_before(case):
    length, runs, speech, levels = case
    window = Window(3, speech[0].start_ms - 200, speech[0].end_ms + 200, (speech[0],))
    (part,) = window_parts(window, length, runs, levels)
    assert (part.index, part.onset_ms, part.length_ms, part.part, part.offset_ms) == (3, speech[0].start_ms, length, 0, 0)
    (part,) = window_parts(Window(4, 500, 900), length, runs, levels)  # nothing detected: from its start
    assert (part.onset_ms, part.length_ms) == (500, length)


@settings(max_examples=200, deadline=None)
@given(clips(), st.integers(0, 500))
def test_window_parts_fit_without_overlap(case, gap_ms):
    length, runs, speech, levels = case
    window = Window(0, speech[0].start_ms, speech[-1].end_ms, tuple(speech))
    plan = fit_timeline(window_parts(window, length, runs, levels), speech[-1].end_ms + 5000,
                        FitOptions(gap_ms=gap_ms))
    for before, after in zip(plan, plan[1:]):  # no part plays into the next one's utterance
        assert before.end_ms <= after.start_ms and before.slot_end_ms <= max(before.start_ms, after.start_ms - gap_ms)


def test_a_short_utterance_joined_into_a_cue_phrase_still_gets_its_own_part():
    # 0.4 s after a 0.5 s utterance, a 0.4 s one: one cue phrase (too short to read alone), two dub parts
    speech = (Span(1000, 1500), Span(1900, 2300))
    assert len(group_phrases(speech, TimingRules())) == 1
    runs = [Span(0, 500), Span(600, 1000)]
    parts = window_parts(Window(0, 900, 2400, speech), 1000, runs)
    assert [(p.onset_ms, p.offset_ms, p.length_ms) for p in parts] == [(1000, 0, 500), (1900, 600, 400)]


def test_speech_is_shared_in_proportion_at_the_nearest_pause():
    # ten 400 ms words 100 ms apart; utterances of 1 s and 4 s: the first fifth (980 ms) goes first
    runs = [Span(i * 500, i * 500 + 400) for i in range(10)]
    parts = split_clip(0, 4900, runs, [Span(10_000, 11_000), Span(12_000, 16_000)])
    assert [(p.onset_ms, p.offset_ms, p.length_ms) for p in parts] == [(10_000, 0, 900), (12_000, 1000, 3900)]
    # 1 s and 3 s: the share ends at 1225 ms, 175 ms from the pause at 1400 and 225 ms from the one at 1000
    parts = split_clip(0, 4900, runs, [Span(10_000, 11_000), Span(12_000, 15_000)])
    assert [p.offset_ms for p in parts] == [0, 1500]


def test_a_long_pause_wins_over_a_word_gap_a_little_nearer():
    # the share ends at 1540 ms: 115 ms from the middle of a word gap (1400-1450), 250 ms from the middle of
    # a sentence pause (1580-2000), but 40 ms from the pause's edge and 90 ms from the gap's
    runs = [Span(0, 1400), Span(1450, 1580), Span(2000, 3200)]
    parts = split_clip(0, 3200, runs, [Span(0, 1540), Span(2000, 3660)])
    assert [p.offset_ms for p in parts] == [0, 2000]


def test_fewer_runs_than_utterances_cut_a_run_at_its_quietest_frame_near_the_boundary():
    # two runs, three equal utterances: the shares end at 1000 and 2000 ms. The one pause (1700-1900) takes
    # 2000, 100 ms off, within its slack (250 ms); 1000 has none and cuts the first run at its quietest
    # frame within the slack
    runs = [Span(0, 1700), Span(1900, 3000)]
    levels = [-20.0] * 300
    levels[88] = -45.0  # 880-890 ms: the quietest within the slack of 1000 ms
    levels[50] = -60.0  # quieter, but 500 ms away: too far to take
    speech = [Span(0, 1000), Span(2000, 3000), Span(4000, 5000)]
    parts = split_clip(0, 3000, runs, speech, levels)
    assert [(p.onset_ms, p.offset_ms, p.length_ms) for p in parts] == [(0, 0, 885), (2000, 885, 815),
                                                                       (4000, 1900, 1100)]


def test_a_pause_beyond_its_slack_gives_way_to_a_soft_cut():
    # utterances of 2 s and 0.5 s in a 2.5 s run with a word gap at 1200-1300 ms: the share ends at 2000 ms,
    # 700 ms from the gap, over a quarter of the 0.5 s share (125 ms): the dub's last 0.5 s goes second
    runs = [Span(0, 1200), Span(1300, 2500)]
    parts = split_clip(0, 2500, runs, [Span(0, 2000), Span(3000, 3500)])
    assert [(p.offset_ms, p.length_ms) for p in parts] == [(0, 2000), (2000, 500)]
    # within it, the pause is kept: no cut inside a word
    parts = split_clip(0, 2500, [Span(0, 1900), Span(2000, 2500)], [Span(0, 2000), Span(3000, 3500)])
    assert [(p.offset_ms, p.length_ms) for p in parts] == [(0, 1900), (2000, 500)]


def test_soft_cuts_leave_runs_as_they_are_when_every_boundary_has_a_pause_near_it():
    runs = [Span(0, 400), Span(500, 900), Span(1000, 1400)]
    assert with_soft_cuts(runs, [450.0, 950.0], [-60.0] * 140) == runs


def test_a_clip_too_short_to_cut_leaves_the_later_utterances_in_the_part_before():
    # runs of 150 and 100 ms (neither can be cut, EDGE_MS either side) for three utterances: two parts
    runs = [Span(0, 150), Span(250, 350)]
    parts = split_clip(0, 350, runs, [Span(0, 500), Span(1000, 1500), Span(2000, 2500)])
    assert [p.onset_ms for p in parts] == [0, 2000]


def test_a_clip_with_no_runs_found_is_one_run():
    # one run, 800 ms, for utterances of 100 and 600 ms: cut (with no levels to go by) where the share ends
    parts = split_clip(2, 800, [], [Span(100, 200), Span(900, 1500)])
    assert [(p.onset_ms, p.offset_ms, p.length_ms) for p in parts] == [(100, 0, 114), (900, 114, 686)]


def test_one_long_run_is_cut_for_every_utterance_near_its_share():
    # a 5 s run with no pause in it (fluent speech) for ten utterances of 0.3-0.7 s: ten parts, each
    # within its slack of its share
    speech = [Span(i * 1000, i * 1000 + 300 + 40 * i) for i in range(10)]
    parts = split_clip(0, 5000, [Span(0, 5000)], speech, [-20.0] * 500)
    assert [p.onset_ms for p in parts] == [s.start_ms for s in speech]
    total = sum(s.duration_ms for s in speech)
    for part, utt in zip(parts, speech):
        share = 5000 * utt.duration_ms / total
        assert 0.5 * share <= part.length_ms <= 1.5 * share
