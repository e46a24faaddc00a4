"""Ducking: which spans are ducked, and the gain envelope around them (pure)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.dub.duck import DuckOptions, duck_spans, envelope
from dubber.dub.timeline import Placement
from dubber.models import Span


def _placement(start: int, end: int) -> Placement:
    return Placement(0, start, end, end, end - start, 1.0, 0)


def test_duck_spans_join_close_clips_and_keep_far_ones_apart():
    spans = duck_spans([_placement(1000, 2000), _placement(2300, 3000), _placement(6000, 7000)])
    assert spans == [Span(1000, 3000), Span(6000, 7000)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20_000), st.integers(1, 3000)), max_size=6), st.integers(1, 25_000),
       st.integers(1, 7000))
def test_envelope_is_full_depth_under_the_dub_and_unity_far_from_it(pairs, total, chunk):
    options = DuckOptions(depth_db=15.0)
    spans = duck_spans(sorted((_placement(s, s + n) for s, n in pairs), key=lambda p: p.start_ms), options)
    # rendered a piece at a time, as the dub is: the pieces join into the whole track's envelope
    gain = np.concatenate([envelope(spans, first, min(first + chunk, total), options) for first in range(0, total, chunk)])
    assert np.array_equal(gain, envelope(spans, 0, total, options))
    assert len(gain) == total and gain.dtype == np.float32
    low = 10 ** (-15 / 20)
    assert np.all(gain >= low - 1e-6) and np.all(gain <= 1.0 + 1e-6)
    for span in spans:
        inside = gain[span.start_ms:min(span.end_ms, total)]
        assert np.allclose(inside, low, atol=1e-6)
    far = np.ones(total, dtype=bool)
    for span in spans:
        far[max(0, span.start_ms - options.attack_ms):span.end_ms + options.release_ms] = False
    assert np.allclose(gain[far], 1.0)

