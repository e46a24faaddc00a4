"""Sample maths on one dubbed clip: trimming its silence, padding or cutting it to its slot."""
from __future__ import annotations

import numpy as np

from dubber.dub.clips import fit_samples, voiced_bounds


def test_voiced_bounds_trim_silence_either_side():
    rate = 24000
    tone = (8000 * np.sin(np.arange(rate) * 2 * np.pi * 200 / rate)).astype(np.int16)
    clip = np.concatenate([np.zeros(rate // 2, np.int16), tone, np.zeros(rate // 4, np.int16)])
    first, end = voiced_bounds(clip, rate)
    assert abs(first - rate // 2) <= rate // 50 and abs(end - (rate // 2 + rate)) <= rate // 50
    assert voiced_bounds(np.zeros(rate, np.int16), rate) == (0, 0)
    assert voiced_bounds(np.zeros(0, np.int16), rate) == (0, 0)


def test_fit_samples_pads_or_cuts_with_a_fade():
    ones = np.full(100, 1000, dtype=np.int16)
    assert len(fit_samples(ones, 150)) == 150 and fit_samples(ones, 150)[120] == 0
    cut = fit_samples(ones, 60, fade=20)
    assert len(cut) == 60 and cut[0] == 1000 and cut[-1] == 0 and cut[39] == 1000
    assert fit_samples(ones, 60)[-1] == 1000

