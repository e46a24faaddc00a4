"""speakers.turns: one speaker at each instant, the changes, each window's speaker, RTTM; and the window
planner's cuts at those changes (Hypothesis properties over arbitrary turns)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.models import Span, Turn, Window
from dubber.speakers.turns import changes, dominant, label_windows, renumber, speaker_of, talk_time, to_rttm
from dubber.speech.windows import plan_windows


@st.composite
def turn_lists(draw):
    turns = []
    for _ in range(draw(st.integers(0, 12))):
        start = draw(st.integers(0, 60_000))
        turns.append(Turn(start, start + draw(st.integers(1, 15_000)), draw(st.integers(1, 4))))
    return turns


def _covered(turns):
    points = sorted({p for t in turns for p in (t.start_ms, t.end_ms)})
    return {(a, b) for a, b in zip(points, points[1:]) if any(t.start_ms <= a and b <= t.end_ms for t in turns)}


@given(turn_lists())
def test_dominant_turns_are_disjoint_ordered_and_cover_all_the_speech(turns):
    out = dominant(turns)
    assert all(a.end_ms <= b.start_ms for a, b in zip(out, out[1:]))
    assert all(t.duration_ms > 0 for t in out)
    covered = {p for t in turns for p in range(t.start_ms // 100, (t.end_ms + 99) // 100)}
    kept = {p for t in out for p in range(t.start_ms // 100, (t.end_ms + 99) // 100)}
    assert covered == kept  # no instant of speech is lost (at 100 ms resolution)
    # each instant goes to a speaker who speaks there
    for t in out:
        middle = (t.start_ms + t.end_ms) // 2
        assert any(s.speaker == t.speaker and s.start_ms <= middle < s.end_ms for s in turns)


def test_overlap_goes_to_the_longer_turn_and_a_backchannel_is_no_change():
    long_turn, backchannel = Turn(0, 8000, 1), Turn(3000, 3400, 2)
    assert dominant([long_turn, backchannel]) == [long_turn]
    assert changes([long_turn, backchannel]) == []
    # a real change: where they meet, or halfway through the pause between them
    assert changes([Turn(0, 4000, 1), Turn(3500, 9000, 2)]) == [3500]  # the longer (2) keeps the overlap
    assert changes([Turn(0, 4000, 1), Turn(5000, 9000, 2)]) == [4500]


@settings(max_examples=200)
@given(turn_lists(), st.lists(st.tuples(st.integers(0, 70_000), st.integers(100, 9000)), max_size=10))
def test_no_window_spans_a_change_of_speaker(turns, raw_spans):
    speech = sorted((Span(s, s + n) for s, n in raw_spans), key=lambda s: s.start_ms)
    cuts = changes(turns)
    windows = plan_windows(speech, 90_000, [], 20, cuts=cuts)
    for w in windows:
        assert not any(w.start_ms < c < w.end_ms for c in cuts), (w, cuts)
    # the speech is all still in the windows
    heard = {ms for s in speech for ms in range(s.start_ms, s.end_ms, 50)}
    assert all(any(w.start_ms <= ms < w.end_ms for w in windows) for ms in heard)


def test_each_window_gets_the_speaker_of_most_of_its_speech():
    turns = [Turn(0, 5000, 1), Turn(5000, 9000, 2)]
    windows = [Window(0, 0, 4000, (Span(100, 3900),)), Window(1, 4500, 9000, (Span(4600, 8800),)),
               Window(2, 20_000, 21_000, (Span(20_100, 20_900),))]
    assert [w.speaker for w in label_windows(windows, turns)] == [1, 2, 2]  # the last: the nearest turn's
    assert speaker_of([Span(0, 100)], []) is None


def test_talk_time_renumbering_and_rttm():
    turns = renumber([Turn(4000, 6000, 9), Turn(0, 3000, 5), Turn(5000, 5500, 5)])
    assert [(t.start_ms, t.speaker) for t in turns] == [(0, 1), (4000, 2), (5000, 1)]
    assert talk_time(turns) == {1: 3500, 2: 2000}
    lines = to_rttm(turns, "my talk").splitlines()
    assert lines[0].split() == ["SPEAKER", "my_talk", "1", "0.000", "3.000", "<NA>", "<NA>", "speaker1", "<NA>", "<NA>"]
    assert len(lines) == 3 and to_rttm([], "x") == ""
