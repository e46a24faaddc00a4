"""Loudness matching: a clip's gain to the original's integrated loudness, under a peak ceiling; clips and
the original's analysis audio measured in memory by libebur128, checked against ffmpeg's ebur128 (itself
checked against its loudnorm, the reference it replaced)."""
from __future__ import annotations

import numpy as np

from dubber.media.audio import ANALYSIS_RATE, PcmFile, extract_pcm, raw_input_args
from dubber.media.loudness import gain_db, samples_loudness, track_loudness
from dubber.media.probe import probe
from dubber.media.tool import run_ffmpeg
from tests.support.loudness import measure_loudness


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


def test_the_original_measured_on_its_analysis_audio_agrees_with_ebur128_on_the_file(tmp_path):
    """Speech in the middle of a 48 kHz stereo mix over a bed that differs between the sides: measured on
    the 16 kHz mono decode the analysis already holds, as heard on two channels."""
    rate, n = 48000, 48000 * 20
    rng = np.random.default_rng(5)
    voice = np.repeat(_speech_like(4000, 20, 0.5).astype(np.float64), 12)[:n] / 32768
    bed = rng.standard_normal((n, 2)) * 0.01  # wide: the sides are unrelated
    stereo = tmp_path / "mix.f32"
    (voice[:, None] + bed).astype("<f4").tofile(stereo)
    wav = tmp_path / "mix.wav"
    run_ffmpeg(["-f", "f32le", "-ar", str(rate), "-ac", "2", "-i", str(stereo), "-c:a", "pcm_s16le", str(wav)], what="w")
    reference = measure_loudness(["-i", str(wav)])
    info = probe(wav)
    extract_pcm(info, tmp_path / "analysis.pcm")
    ours = track_loudness(PcmFile(tmp_path / "analysis.pcm"), ANALYSIS_RATE, channels=2)
    print(f"analysis audio: {ours}; ffmpeg on the file: {reference}")
    assert abs(ours.integrated - reference.integrated) < 0.5 and abs(ours.peak - reference.peak) < 1.0, (ours, reference)
    assert abs(ours.lra - reference.lra) < 1.0
    np.zeros(16000 * 3, dtype="<i2").tofile(tmp_path / "silence.pcm")
    assert track_loudness(PcmFile(tmp_path / "silence.pcm"), ANALYSIS_RATE) is None
