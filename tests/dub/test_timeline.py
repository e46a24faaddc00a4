"""The dub's timeline plan (pure): property tests and worked cases."""
from __future__ import annotations

import doctest
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.dub import timeline
from dubber.dub.timeline import Clip, FitOptions, Placement, dubbed_speech, fit_timeline
from dubber.errors import OptionError
from dubber.models import Span


@st.composite
def timelines(draw):
    duration = draw(st.integers(0, 120_000))
    count = draw(st.integers(0, 25))
    onsets = sorted(draw(st.lists(st.integers(0, duration), min_size=count, max_size=count)))
    lengths = draw(st.lists(st.integers(0, 30_000), min_size=count, max_size=count))
    options = FitOptions(max_speed=draw(st.floats(1.0, 2.0)), gap_ms=draw(st.integers(0, 500)))
    return [Clip(i, o, n) for i, (o, n) in enumerate(zip(onsets, lengths))], duration, options


@settings(max_examples=400, deadline=None)
@given(timelines())
def test_plan_never_overlaps_stays_anchored_and_respects_the_cap(case):
    clips, duration, options = case
    plan = fit_timeline(clips, duration, options)
    by_index = {c.index: c for c in clips}
    assert [p.index for p in plan] == [c.index for c in clips if c.length_ms > 0]
    for p in plan:
        clip = by_index[p.index]
        assert p.start_ms == clip.onset_ms  # anchored: never moved by what came before
        assert p.start_ms <= p.end_ms <= p.slot_end_ms <= duration
        assert 1.0 <= p.speed <= options.max_speed
        wanted = math.ceil(clip.length_ms / p.speed - 1e-9)
        assert p.played_ms == min(wanted, p.slot_end_ms - p.start_ms)
        assert (p.overflow_ms > 0) == (wanted > p.played_ms)
        assert 0 <= p.overflow_ms <= clip.length_ms
        if clip.length_ms <= p.slot_end_ms - p.start_ms:
            assert p.speed == 1.0 and p.overflow_ms == 0  # what fits plays at natural speed
        elif p.speed < options.max_speed:
            assert p.overflow_ms == 0  # sped up only when needed, and then enough
    for before, after in zip(plan, plan[1:]):
        assert before.end_ms <= after.start_ms, "clips overlap"
        if after.start_ms - options.gap_ms >= before.start_ms:
            assert before.end_ms <= after.start_ms - options.gap_ms


@settings(max_examples=200, deadline=None)
@given(timelines())
def test_neighbours_that_need_a_speed_up_share_one_factor(case):
    clips, duration, options = case
    plan = fit_timeline(clips, duration, options)
    for before, after in zip(plan, plan[1:]):
        if before.speed > 1.0 and after.speed > 1.0:
            assert before.speed == after.speed


def test_slot_borrows_the_following_silence_before_speeding_up():
    # 2.5 s of dub for 2 s of original speech followed by 1.5 s of silence: borrowed, not sped up
    plan = fit_timeline([Clip(0, 1000, 2500), Clip(1, 4500, 1000)], 8000)
    assert (plan[0].start_ms, plan[0].end_ms, plan[0].speed, plan[0].slot_end_ms) == (1000, 3500, 1.0, 4400)


def test_too_long_clip_is_capped_then_cut_and_reported():
    plan = fit_timeline([Clip(0, 0, 5000), Clip(1, 2100, 1000)], 6000, FitOptions(max_speed=1.3))
    first = plan[0]
    assert first.speed == 1.3 and first.end_ms == 2000 and first.overflow_ms == 5000 - 2600
    assert plan[1].start_ms == 2100 and plan[1].speed == 1.0


def test_a_run_of_over_long_clips_shares_its_largest_need():
    plan = fit_timeline([Clip(0, 0, 1100), Clip(1, 1100, 1200), Clip(2, 2200, 500)], 4000,
                        FitOptions(gap_ms=100))
    assert [p.speed for p in plan] == [1.2, 1.2, 1.0]


def test_options_are_checked():
    with pytest.raises(OptionError, match="max-speed"):
        FitOptions(max_speed=0.9)
    with pytest.raises(OptionError):
        FitOptions(max_speed=2.5)


def test_doctests():
    result = doctest.testmod(timeline)
    assert result.attempted > 0 and result.failed == 0, result  # no example at all would pass unseen


def test_dubbed_speech_of_a_part_takes_only_the_speech_inside_it():
    # the clip speaks at 0-500, 700-1200 and 1500-2000; the part is 700-2000 of it, placed at 5000
    part = Placement(0, 5000, 6300, 6500, 1300, 1.0, 0, part=1, offset_ms=700)
    spans = [Span(0, 500), Span(700, 1200), Span(1500, 2000)]
    assert dubbed_speech(part, spans) == (Span(5000, 5500), Span(5800, 6300))


def test_parts_of_one_window_are_fitted_as_clips_in_order():
    parts = [Clip(0, 3000, 800, part=1, offset_ms=900), Clip(0, 1000, 900, part=0), Clip(1, 6000, 500)]
    plan = fit_timeline(parts, 8000)
    assert [(p.index, p.part, p.offset_ms, p.start_ms, p.slot_end_ms) for p in plan] == [
        (0, 0, 0, 1000, 2900), (0, 1, 900, 3000, 5900), (1, 0, 0, 6000, 8000)]


@given(timelines(), st.data())
@settings(max_examples=600, deadline=None)
def test_settled_placements_are_the_final_plans_prefix_whatever_comes_later(case, data):
    """What the dub renders while later windows are still out is exactly what the whole plan says."""
    clips, duration, options = case
    # the horizon is the next window's start: usually a clip's onset, anywhere in the track at times
    onsets = [c.onset_ms for c in clips]
    horizon = data.draw(st.sampled_from(onsets) if onsets and data.draw(st.booleans()) else st.integers(0, 130_000))
    known = [c for c in clips if c.onset_ms < horizon]  # everything after the horizon is still to come
    settled = timeline.settled_placements(known, duration, options, horizon)
    final = fit_timeline(clips, duration, options)
    assert settled == final[:len(settled)]
    assert timeline.settled_placements(clips, duration, options, None) == final  # nothing more to come


def test_a_run_of_sped_up_clips_stays_open_until_the_clip_after_it_is_known():
    clips = [Clip(0, 0, 900), Clip(1, 1000, 1300), Clip(2, 2000, 1300)]  # 1 and 2 need a speed-up
    assert [p.index for p in timeline.settled_placements(clips, 60_000, FitOptions(), 3000)] == [0]
    later = [*clips, Clip(3, 3000, 1300)]  # it joins their run: one shared factor for all three
    assert [p.index for p in timeline.settled_placements(later, 60_000, FitOptions(), None)] == [0, 1, 2, 3]


def test_a_clip_with_its_own_end_is_sped_up_to_end_there_then_spills_only_what_max_speed_cannot_fit():
    options = FitOptions(max_speed=1.3)
    (fits,) = fit_timeline([Clip(0, 1000, 1200, end_ms=2000)], 9000, options)
    assert (fits.end_ms, fits.speed, fits.overflow_ms) == (2000, 1.2, 0)
    (spills,) = fit_timeline([Clip(0, 1000, 2600, end_ms=2000)], 9000, options)
    assert (spills.end_ms, spills.speed, spills.overflow_ms) == (3000, 1.3, 0)  # 2600 / 1.3, into the silence
    (natural,) = fit_timeline([Clip(0, 1000, 800, end_ms=2000)], 9000, options)
    assert (natural.end_ms, natural.speed) == (1800, 1.0)


@settings(max_examples=300, deadline=None)
@given(timelines(), st.data())
def test_fit_among_keeps_pinned_placements_that_still_fit_and_never_overlaps(case, data):
    clips, duration, options = case
    placed = fit_timeline(clips, duration, options)
    chosen = data.draw(st.lists(st.booleans(), min_size=len(placed), max_size=len(placed)))
    pinned = [p for p, pin in zip(placed, chosen) if pin]
    free = [Clip(p.index, p.start_ms, p.clip_ms) for p, pin in zip(placed, chosen) if not pin]
    again = sorted(timeline.fit_among(pinned, free, duration, options), key=lambda p: p.start_ms)
    assert len(again) == len([p for p in pinned if p.played_ms > 0]) + len([c for c in free if c.length_ms > 0])
    for p in pinned:
        assert p.played_ms == 0 or p in again, "a pinned placement whose slot did not shrink stays as it was"
    for before, after in zip(again, again[1:]):
        assert before.end_ms <= after.start_ms
