"""Loudness matching: a clip's gain to the original's integrated loudness, under a peak ceiling; tracks
measured with ffmpeg's ebur128 (checked against its loudnorm, the reference it replaced), clips in memory
with libebur128 (checked against ffmpeg's ebur128)."""
from __future__ import annotations

import numpy as np

from dubber.media.audio import raw_input_args
from dubber.media.loudness import gain_db, measure_loudness, samples_loudness
from dubber.media.tool import run_ffmpeg


def test_the_gain_matches_the_original_or_falls_back_to_r128_and_respects_the_peak_ceiling():
    assert gain_db(-16.0, -6.0, -21.5) == -5.5
    assert gain_db(-16.0, -6.0, None) == -7.0  # R128's -23 LUFS
    assert gain_db(-30.0, -3.0, -20.0) == 1.5  # not +10: it would lift the peak over -1.5 dBFS


def _speech_like(rate: int, seconds: float, level: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    bursts = (np.sin(2 * np.pi * 3 * t) > 0.2) * np.sin(2 * np.pi * 220 * t) * (0.1 + 0.2 * (t % 2))
    return (bursts * 32767 * level).astype("<i2")


def test_a_clip_measured_in_memory_agrees_with_ebur128_mono_and_on_both_sides_of_a_stereo_mix(tmp_path):
    rate = 24000
    for seconds, level in [(3.0, 0.8), (0.3, 0.05)]:  # a sentence, and a short soft word (one block)
        clip = _speech_like(rate, seconds, level)
        # ebur128 needs 400 ms: the short word is measured by it as itself over and over
        (tmp_path / "clip.pcm").write_bytes(np.tile(clip, max(1, round(3 / seconds))).tobytes())
        mono = measure_loudness(raw_input_args(tmp_path / "clip.pcm", rate))
        stereo = measure_loudness(raw_input_args(tmp_path / "clip.pcm", rate), "pan=stereo|c0=c0|c1=c0")
        ours, ours2 = samples_loudness(clip, rate), samples_loudness(clip, rate, channels=2)
        assert abs(ours[0] - mono.integrated) < 0.3 and abs(ours2[0] - stereo.integrated) < 0.3, (ours, mono, stereo)
        assert abs(ours[1] - mono.peak) < 0.05
    assert samples_loudness(np.zeros(rate, dtype="<i2"), rate) is None  # silence
    assert samples_loudness(_speech_like(rate, 0.02, 0.8), rate) is None  # too short to measure


def test_ebur128_agrees_with_loudnorm_on_speech_like_audio(tmp_path):
    rate = 24000
    pcm = tmp_path / "speech.pcm"
    _speech_like(rate, 8, 0.8).tofile(pcm)
    ours = measure_loudness(raw_input_args(pcm, rate))
    log = run_ffmpeg(["-nostats", *raw_input_args(pcm, rate), "-af", "loudnorm=print_format=json", "-f", "null", "-"],
                     what="measuring", loglevel="info")
    reference = float(log.split('"input_i" : "')[1].split('"')[0])
    assert ours is not None and abs(ours.integrated - reference) < 0.2, (ours, reference)
    silence = tmp_path / "silence.pcm"
    np.zeros(rate * 2, dtype="<i2").tofile(silence)
    assert measure_loudness(raw_input_args(silence, rate)) is None
