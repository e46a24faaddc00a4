"""The time-stretch filter and its ffmpeg arguments (read, never run)."""
from __future__ import annotations

from pathlib import Path

from dubber.media.stretch import stretch_args, tempo_filter


def test_stretch_uses_a_pitch_preserving_filter():
    assert tempo_filter(1.25, "rubberband") == "rubberband=tempo=1.2500"
    assert tempo_filter(1.25, "atempo") == "atempo=1.2500"
    args = stretch_args(Path("c.pcm"), 24000, Path("o.pcm"), 24000, 1.0, "rubberband")
    assert "-af" in args and "tempo" not in args[args.index("-af") + 1]
