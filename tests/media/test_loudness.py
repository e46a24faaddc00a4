"""Loudness matching: the second loudnorm pass as one linear gain."""
from __future__ import annotations

from dubber.media.loudness import loudnorm_filter
from dubber.models import Loudness


def test_loudnorm_matches_the_original_or_falls_back_to_r128():
    dub = Loudness(-16.0, -6.0, 5.0, -26.0)
    assert loudnorm_filter(dub, -21.5).startswith("loudnorm=I=-21.50:TP=-1.5:")
    assert "measured_I=-16.00" in loudnorm_filter(dub, -21.5) and loudnorm_filter(dub, -21.5).endswith("linear=true")
    assert "I=-23.00" in loudnorm_filter(dub, None)
    assert loudnorm_filter(None, -20.0) == ""

