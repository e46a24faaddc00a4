"""Time-stretching keeps the pitch: a real tone stretched by the real ffmpeg, its length and pitch measured
on the decoded result (and a naive speed-up as the control that the measurement would notice)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubber.media.stretch import METHODS, stretch_args, tempo_filter
from dubber.media.capability import capabilities
from dubber.media.tool import ffmpeg_exe, run_ffmpeg

RATE = 24000
PITCH_HZ = 200.0


def _tone(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * PITCH_HZ * k * t) / k for k in (1, 2, 3))  # a voice-like harmonic tone
    return (wave / np.max(np.abs(wave)) * 0.5 * 32767).astype("<i2")


def _pitch(samples: np.ndarray) -> float:
    """The fundamental by autocorrelation over the middle second (the strongest lag between 2.5 and 20 ms)."""
    middle = samples[len(samples) // 4: len(samples) // 4 + RATE].astype(np.float64)
    corr = np.correlate(middle, middle, mode="full")[len(middle) - 1:]
    low, high = RATE // 400, RATE // 50
    return RATE / (low + int(np.argmax(corr[low:high])))


def _run(args: list[str], dest: Path) -> np.ndarray:
    run_ffmpeg(args, what="stretching a test tone")
    return np.fromfile(dest, dtype="<i2")


@pytest.mark.parametrize("method", METHODS)
def test_a_stretched_clip_is_shorter_and_keeps_its_pitch(method, tmp_path: Path):
    if method not in capabilities(ffmpeg_exe()).filters and method != "atempo":
        pytest.skip(f"the suite's ffmpeg has no {method}")
    src, dest = tmp_path / "tone.pcm", tmp_path / "fast.pcm"
    tone = _tone()
    tone.tofile(src)
    fast = _run(stretch_args(src, RATE, dest, RATE, 1.25, method), dest)
    assert len(fast) / len(tone) == pytest.approx(1 / 1.25, abs=0.02)
    assert _pitch(fast) == pytest.approx(PITCH_HZ, rel=0.02)


def test_the_control_a_naive_speed_up_raises_the_pitch(tmp_path: Path):
    src, dest = tmp_path / "tone.pcm", tmp_path / "chipmunk.pcm"
    _tone().tofile(src)
    naive = _run(["-f", "s16le", "-ar", str(int(RATE * 1.25)), "-ac", "1", "-i", str(src),
                  "-af", f"aresample={RATE}", "-f", "s16le", "-ar", str(RATE), str(dest)], dest)
    assert _pitch(naive) == pytest.approx(PITCH_HZ * 1.25, rel=0.02)


def test_the_filter_for_each_method_and_no_filter_at_natural_speed():
    assert tempo_filter(1.25, "rubberband") == "rubberband=tempo=1.2500"
    assert tempo_filter(1.25, "atempo") == "atempo=1.2500"
    args = stretch_args(Path("c.pcm"), 24000, Path("o.pcm"), 24000, 1.0, "rubberband")
    assert "tempo" not in args[args.index("-af") + 1]
