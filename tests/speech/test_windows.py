"""plan_windows: Hypothesis properties over arbitrary speech, plus examples of each planning rule."""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.speech import windows
from dubber.errors import OptionError
from dubber.models import Span
from dubber.speech.windows import WindowOptions, plan_windows

FRAME_MS = 20

# Pauses and spans drawn from the ranges that matter: word gaps, sentence pauses, long silences; words,
# sentences, and monologues longer than any window.
pauses = st.one_of(st.integers(1, 300), st.integers(300, 1500), st.integers(1500, 6000))
lengths = st.one_of(st.integers(1, 1000), st.integers(1000, 8000), st.integers(8000, 45000))


@st.composite
def speech_tracks(draw):
    """(spans, duration_ms): sorted, disjoint, non-touching spans with leading and trailing silence."""
    cursor = draw(st.integers(0, 5000))
    spans = []
    for pause, length in draw(st.lists(st.tuples(pauses, lengths), max_size=14)):
        start = cursor + (pause if spans else 0)
        spans.append(Span(start, start + length))
        cursor = start + length
    return spans, cursor + draw(st.integers(0, 5000))


@st.composite
def window_options(draw):
    if draw(st.booleans()):
        return WindowOptions()
    min_ms = draw(st.integers(0, 4000))
    long_silence = draw(st.integers(300, 5000))
    return WindowOptions(min_ms=min_ms, max_ms=draw(st.integers(max(1, 2 * min_ms), 20000)),
                         long_silence_ms=long_silence, split_pause_ms=draw(st.integers(50, 2000)),
                         pad_ms=draw(st.integers(0, min(long_silence - 1, 500))))


def random_levels(duration_ms: int, frame_ms: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(-30, 10, math.ceil(duration_ms / frame_ms))


def covered(span: Span, windows_) -> int:
    return sum(max(0, min(span.end_ms, w.end_ms) - max(span.start_ms, w.start_ms)) for w in windows_)


def content(window) -> tuple[int, int]:
    return window.speech[0].start_ms, window.speech[-1].end_ms


@settings(max_examples=400, deadline=None)
@given(track=speech_tracks(), options=window_options(), frame_ms=st.sampled_from([10, 20, 30]),
       seed=st.integers(0, 2**32 - 1))
def test_plan_properties(track, options, frame_ms, seed):
    spans, duration = track
    levels = random_levels(duration, frame_ms, seed)
    planned = plan_windows(spans, duration, levels, frame_ms, options)

    # ordered, disjoint, inside the track, indexed in order, every one with speech inside it
    assert [w.index for w in planned] == list(range(len(planned)))
    for w in planned:
        assert 0 <= w.start_ms < w.end_ms <= duration
        assert w.speech and all(w.start_ms <= s.start_ms < s.end_ms <= w.end_ms for s in w.speech)
    assert all(a.end_ms <= b.start_ms for a, b in zip(planned, planned[1:]))

    # coverage: every ms of speech is in a window, and the windows' speech is exactly the input speech
    assert all(covered(s, planned) == s.duration_ms for s in spans)
    assert sum(s.duration_ms for w in planned for s in w.speech) == sum(s.duration_ms for s in spans)

    # a boundary falls inside a span only where that span is over-long, and then the windows touch
    boundaries = {w.start_ms for w in planned} | {w.end_ms for w in planned}
    touching = {a.end_ms for a, b in zip(planned, planned[1:]) if a.end_ms == b.start_ms}
    for s in spans:
        for b in boundaries:
            if s.start_ms < b < s.end_ms:
                assert s.duration_ms > options.max_ms and b in touching

    for w in planned:
        # no long silence inside a window (pauses between its spans, padding at its edges)
        edges = [w.start_ms, *[x for s in w.speech for x in (s.start_ms, s.end_ms)], w.end_ms]
        assert all(b - a < options.long_silence_ms for a, b in zip(edges[::2], edges[1::2]))
        assert w.duration_ms <= options.max_ms + 2 * options.pad_ms
        assert content(w)[1] - content(w)[0] <= options.max_ms

    # a window shorter than min_ms could not be merged: each neighbour is across a long silence, or the
    # merged window would be too long
    for i, w in enumerate(planned):
        start, end = content(w)
        if end - start >= options.min_ms:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(planned):
                other = content(planned[j])
                gap = start - other[1] if j < i else other[0] - end
                merged = max(end, other[1]) - min(start, other[0])
                assert gap >= options.long_silence_ms or merged > options.max_ms


@settings(max_examples=200, deadline=None)
@given(length=st.integers(12001, 40000), lead=st.integers(0, 3000), frame_ms=st.sampled_from([10, 20, 30]),
       seed=st.integers(0, 2**32 - 1))
def test_long_span_is_cut_at_the_quietest_frame_of_its_allowed_region(length, lead, frame_ms, seed):
    """The first cut of a lone over-long span: the quietest frame centre where the left part gets
    min..max and the rest can still be cut into k - 1 such parts."""
    options = WindowOptions()
    duration = lead + length + 1000
    levels = random_levels(duration, frame_ms, seed)
    planned = plan_windows([Span(lead, lead + length)], duration, levels, frame_ms, options)
    cut = planned[0].end_ms
    k = math.ceil(length / options.max_ms)
    lo = lead + max(options.min_ms, length - (k - 1) * options.max_ms)
    hi = lead + min(options.max_ms, length - (k - 1) * options.min_ms)
    centres = np.arange(len(levels)) * frame_ms + frame_ms // 2
    allowed = (centres >= lo) & (centres <= hi)
    assert len(planned) == k and lo <= cut <= hi
    if allowed.any():  # else the region is narrower than a frame, and the cut is at an even split
        assert (cut - frame_ms // 2) % frame_ms == 0
        assert levels[cut // frame_ms] == levels[allowed].min()


def spans_of(planned):
    return [(w.start_ms, w.end_ms) for w in planned]


def test_a_short_utterance_joins_its_neighbour_across_the_shorter_pause():
    speech = [Span(1000, 1600), Span(2100, 4500), Span(5500, 8000)]  # "Thank you." 0.5 s before, 1 s after
    assert spans_of(plan_windows(speech, 10000, [], FRAME_MS)) == [(800, 4700), (5300, 8200)]


def test_sentences_get_a_window_each_at_sentence_pauses():
    speech = [Span(1000, 3500), Span(4300, 6800), Span(7100, 9600)]  # 0.8 s, then 0.3 s between
    assert spans_of(plan_windows(speech, 11000, [], FRAME_MS)) == [(800, 3700), (4100, 9800)]


def test_a_pause_is_not_a_boundary_when_a_side_would_be_too_short():
    speech = [Span(1000, 2500), Span(3500, 6000)]  # 1 s pause, but 1.5 s of speech before it
    assert spans_of(plan_windows(speech, 7000, [], FRAME_MS)) == [(800, 6200)]


def test_long_silence_is_never_inside_a_window_and_edges_are_trimmed():
    speech = [Span(5000, 5800), Span(8000, 11000)]  # 2.2 s apart: each short window stays alone
    planned = plan_windows(speech, 20000, [], FRAME_MS)
    assert spans_of(planned) == [(4800, 6000), (7800, 11200)]


def test_padding_stops_at_the_middle_of_a_short_pause():
    options = WindowOptions(min_ms=1000, max_ms=4000, split_pause_ms=100, pad_ms=300)
    planned = plan_windows([Span(0, 3000), Span(3200, 6000)], 6500, [], FRAME_MS, options)
    assert spans_of(planned) == [(0, 3100), (3100, 6300)]


def test_long_speech_is_split_at_the_longest_pause_first():
    speech = [Span(0, 5000), Span(5200, 9000), Span(9600, 14000), Span(14100, 18000)]
    planned = plan_windows(speech, 18000, [], FRAME_MS)
    assert [content(w) for w in planned] == [(0, 9000), (9600, 18000)]


def test_a_long_span_is_cut_at_a_dip_inside_the_allowed_region_only():
    levels = np.full(2000, -20.0)
    levels[50] = -90.0  # at 1 s: the left part would be shorter than min_ms
    levels[400] = -60.0  # at 8 s
    planned = plan_windows([Span(0, 20000)], 20000, levels, FRAME_MS)
    assert [content(w) for w in planned] == [(0, 8010), (8010, 20000)]
    assert planned[0].speech == (Span(0, 8010),) and planned[1].speech == (Span(8010, 20000),)


def test_a_short_piece_next_to_a_cut_span_is_merged_back():
    # 1 s after a 20 s span: the forced cut lands inside the span so that the tail has company
    planned = plan_windows([Span(1000, 2000), Span(2100, 22100)], 23000, np.zeros(1200), FRAME_MS)
    assert all(w.duration_ms >= 2000 for w in planned) and len(planned) == 2


def test_no_speech_no_windows_and_spans_are_normalised():
    assert plan_windows([], 5000, [], FRAME_MS) == []
    messy = [Span(3000, 4000), Span(-500, 1000), Span(900, 2500), Span(4500, 4500), Span(4800, 9000)]
    planned = plan_windows(messy, 6000, [], FRAME_MS, WindowOptions(split_pause_ms=1000))
    assert [w.speech for w in planned] == [(Span(0, 2500), Span(3000, 4000), Span(4800, 6000))]


@pytest.mark.parametrize("kwargs", [dict(min_ms=5000, max_ms=8000), dict(pad_ms=2500), dict(max_ms=0),
                                    dict(min_ms=-1), dict(long_silence_ms=0)])
def test_inconsistent_options_are_refused(kwargs):
    with pytest.raises(OptionError):
        WindowOptions(**kwargs)


def test_docstring_example():
    result = doctest.testmod(windows)
    assert result.attempted > 0 and result.failed == 0, result  # no example at all would pass unseen


def test_padding_stops_at_digital_silence_but_not_over_a_bed():
    """Padding over frames under -60 dB holds nothing to hear and is not sent; over a bed it all stays."""
    speech = [Span(1000, 3000)]
    silent = np.full(250, -120.0)  # 5 s of 20 ms frames
    silent[45:155] = -25.0  # the voice, from 900 ms (a soft onset the detector's span starts after)
    assert [(w.start_ms, w.end_ms) for w in plan_windows(speech, 5000, silent, 20)] == [(900, 3100)]
    bed = np.where(silent < -60, -45.0, silent)  # the same voice over a bed at -45 dB
    assert [(w.start_ms, w.end_ms) for w in plan_windows(speech, 5000, bed, 20)] == [(800, 3200)]
    assert [(w.start_ms, w.end_ms) for w in plan_windows(speech, 5000, [], 20)] == [(800, 3200)]  # no levels


@st.composite
def _talks(draw):
    """Spans with pauses of every kind (some just over a short long-silence, under twice the padding)."""
    options = WindowOptions(long_silence_ms=draw(st.sampled_from([300, 1000, 2000])), min_ms=500, max_ms=4000,
                            split_pause_ms=250, pad_ms=draw(st.sampled_from([100, 200])))
    spans, cursor = [], draw(st.integers(0, 3000))
    for _ in range(draw(st.integers(1, 30))):
        length = draw(st.integers(100, 6000))
        spans.append(Span(cursor, cursor + length))
        cursor += length + draw(st.integers(50, 3000))
    return spans, cursor + draw(st.integers(0, 3000)), options


@settings(max_examples=300, deadline=None)
@given(_talks(), st.data())
def test_a_prefixs_settled_windows_are_the_whole_plans_first_windows(talk, data):
    spans, duration, options = talk
    trusted = data.draw(st.integers(0, duration))
    settled = windows.plan_settled(spans, trusted, [], 20, options)
    whole = windows.plan_windows(spans, duration, [], 20, options)
    assert settled == whole[:len(settled)]
    assert all(w.end_ms <= trusted for w in settled)


def test_a_prefixs_last_window_is_padded_by_at_most_half_the_pause_after_it():
    options = WindowOptions(long_silence_ms=300, min_ms=500, max_ms=4000, split_pause_ms=250, pad_ms=200)
    spans = [Span(0, 1000), Span(1350, 2000), Span(5000, 6000)]  # a long silence of 350 ms, under twice the pad
    settled = windows.plan_settled(spans, 2500, [], 20, options)
    assert [(w.start_ms, w.end_ms) for w in settled] == [(0, 1175)]
    assert settled == windows.plan_windows(spans, 7000, [], 20, options)[:1]
