"""Loudness matching: one gain to the original's integrated loudness, under a peak ceiling; measured with
ffmpeg's ebur128 and checked against its loudnorm, the reference it replaced."""
from __future__ import annotations

import numpy as np

from dubber.media.audio import raw_input_args
from dubber.media.loudness import loudness_filter, measure_loudness
from dubber.media.tool import run_ffmpeg
from dubber.models import Loudness


def test_the_gain_matches_the_original_or_falls_back_to_r128_and_respects_the_peak_ceiling():
    dub = Loudness(-16.0, -6.0, 5.0, -26.0)
    assert loudness_filter(dub, -21.5) == "volume=-5.50dB"
    assert loudness_filter(dub, None) == "volume=-7.00dB"  # R128's -23 LUFS
    assert loudness_filter(Loudness(-30.0, -3.0, 5.0, -40.0), -20.0) == "volume=1.50dB"  # not +10: it would clip
    assert loudness_filter(None, -20.0) == ""


def test_ebur128_agrees_with_loudnorm_on_speech_like_audio(tmp_path):
    rate = 24000
    t = np.arange(rate * 8) / rate
    bursts = (np.sin(2 * np.pi * 3 * t) > 0.2) * np.sin(2 * np.pi * 220 * t) * (0.1 + 0.2 * (t % 2))
    pcm = tmp_path / "speech.pcm"
    (bursts * 32767 * 0.8).astype("<i2").tofile(pcm)
    ours = measure_loudness(raw_input_args(pcm, rate))
    log = run_ffmpeg(["-nostats", *raw_input_args(pcm, rate), "-af", "loudnorm=print_format=json", "-f", "null", "-"],
                     what="measuring", loglevel="info")
    reference = float(log.split('"input_i" : "')[1].split('"')[0])
    assert ours is not None and abs(ours.integrated - reference) < 0.2, (ours, reference)
    silence = tmp_path / "silence.pcm"
    np.zeros(rate * 2, dtype="<i2").tofile(silence)
    assert measure_loudness(raw_input_args(silence, rate)) is None
