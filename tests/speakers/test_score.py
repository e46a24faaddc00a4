"""speakers.score: the diarization error rate on cases worked out by hand (benchmarks/speakers_bench.py also
checks it against pyannote.metrics when that is installed)."""
from __future__ import annotations

from dubber.speakers.score import Labelled, diarization_errors

REF = [Labelled(0, 10_000, "A"), Labelled(8_000, 12_000, "B"), Labelled(12_000, 20_000, "A")]


def test_a_perfect_answer_scores_zero_whatever_its_speaker_names():
    hyp = [Labelled(0, 10_000, 7), Labelled(8_000, 12_000, 3), Labelled(12_000, 20_000, 7)]
    assert diarization_errors(REF, hyp, 0).rate == 0.0


def test_one_speaker_for_everything_misses_the_overlap_and_confuses_the_other():
    errors = diarization_errors(REF, [Labelled(0, 20_000, 1)], collar_ms=0)
    # reference speech: 10 + 4 + 8 = 22 s; 2 s of overlap are missed; B's 2 s alone are confused
    assert (errors.total, errors.missed, errors.false_alarm, errors.confusion) == (22_000, 2_000, 0, 2_000)
    assert abs(errors.rate - 4 / 22) < 1e-9


def test_false_alarm_and_the_collar_on_each_side_of_each_reference_boundary():
    hyp = [Labelled(0, 10_000, 1), Labelled(8_000, 12_000, 2), Labelled(12_000, 21_000, 1)]
    assert diarization_errors(REF, hyp, 0).false_alarm == 1_000
    # 250 ms each side of 0, 8, 10, 12 and 20 s (A's turns touch at 12 s: one turn, no boundary there for A)
    late = [Labelled(200, 10_000, 1), Labelled(8_000, 12_000, 2), Labelled(12_000, 20_240, 1)]
    assert diarization_errors(REF, late, 250).rate == 0.0
    assert diarization_errors(REF, late, 0).rate > 0.0
