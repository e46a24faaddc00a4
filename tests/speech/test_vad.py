"""Speech detection on espeak speech at known times, clean and under music and noise beds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubber.speech import vad
from dubber.errors import OptionError
from dubber.media.audio import PcmFile
from dubber.models import Span
from tests.support.mediagen import RATE, Scene, compose, utterance

# Pauses of 0.2-3 s and one 4 s silence (before en03); a 0.2 s pause follows en01 and en04.
LAYOUT = [(1.0, "en01"), (0.2, "en06"), (0.5, "en02"), (0.8, "es01"), (0.3, "zh01"), (4.0, "en03"),
          (1.2, "de01"), (3.0, "en04"), (0.2, "en05"), (0.6, "en06")]
LONG_SILENCE = 5  # index of the utterance after the 4 s silence


def with_noise(scene: Scene, db: float, seed: int = 3) -> Scene:
    speech_rms = np.sqrt(np.mean(np.concatenate([utterance(n) for _, n in LAYOUT]).astype(np.float64) ** 2))
    noise = np.random.default_rng(seed).standard_normal(len(scene.pcm)) * speech_rms * 10 ** (db / 20)
    return Scene(np.clip(scene.pcm + noise, -32768, 32767).astype(np.int16), scene.speech)


_SCENES: dict[str, Scene] = {}


def scene(bed: str) -> Scene:
    if bed not in _SCENES:
        music = {"clean": None, "music -15": -15.0, "music -10": -10.0}
        if bed in music:
            _SCENES[bed] = compose(LAYOUT, 1.0, music_db=music[bed])
        else:
            _SCENES[bed] = with_noise(scene("clean"), -20.0)
    return _SCENES[bed]


def overlap(spans, start: int, end: int) -> int:
    return sum(max(0, min(s.end_ms, end) - max(s.start_ms, start)) for s in spans)


_MISSING: dict[str, str | None] = {}


def missing(method: str) -> str | None:
    """Why ``method`` cannot run here (an optional extra not installed, or its native library not
    loading), or None. Its own one-line error, so a skipped test says how to install it."""
    if method not in _MISSING:
        try:
            vad.detect_speech(np.zeros(RATE // 10, dtype=np.int16), RATE, method)
            _MISSING[method] = None
        except OptionError as exc:
            _MISSING[method] = str(exc)
    return _MISSING[method]


def needs(method: str) -> None:
    if missing(method):
        pytest.skip(f"{method} detector not available: {missing(method)}")


NEURAL = ("silero", "ten")
CASES = [("energy", "clean"), ("energy", "music -15"), ("energy", "white -20"), ("webrtc", "clean"),
         ("webrtc", "white -20"), ("silero", "clean"), ("silero", "music -15")]
# At -10 dB the music hides weak onsets ("Th...") and the quiet ends of words around a 0.2 s pause, so
# onsets can be ~120 ms late and such a pause may split; coverage and silence must still hold there.
# ten (optional, not the default) is held to the target only (test_onsets_under_music_...): at its
# threshold it covers under 90% of the short "Thank you." (en06) under music and starts es01 over 100 ms
# late on clean speech; at 0.5 it runs through pauses under music instead (see benchmarks/vad_bench.py).
LOUD = [("energy", "music -10"), ("silero", "music -10")]
_DETECTED: dict[tuple[str, str], tuple[Scene, tuple[Span, ...]]] = {}


def detect(case: tuple[str, str]) -> tuple[Scene, tuple[Span, ...]]:
    needs(case[0])
    if case not in _DETECTED:
        sc = scene(case[1])
        _DETECTED[case] = sc, vad.detect_speech(sc.pcm, RATE, case[0])
    return _DETECTED[case]


@pytest.fixture(params=CASES + LOUD, ids=[f"{m}-{b}" for m, b in CASES + LOUD])
def detected(request):
    return detect(request.param)


@pytest.fixture(params=CASES, ids=[f"{m}-{b}" for m, b in CASES])
def detected_strict(request):
    return detect(request.param)


def test_spans_are_sorted_disjoint_and_inside_the_track(detected):
    sc, spans = detected
    assert all(isinstance(x, int) for s in spans for x in (s.start_ms, s.end_ms))
    assert all(0 <= s.start_ms < s.end_ms <= sc.duration_ms for s in spans)
    assert all(a.end_ms < b.start_ms for a, b in zip(spans, spans[1:]))


def test_every_utterance_is_covered(detected):
    sc, spans = detected
    for placed in sc.speech:
        assert overlap(spans, placed.start_ms, placed.end_ms) >= 0.9 * (placed.end_ms - placed.start_ms), placed


def test_onsets_after_a_pause_are_within_100_ms(detected_strict):
    sc, spans = detected_strict
    starts = np.array([s.start_ms for s in spans])
    for before, placed in zip(sc.speech, sc.speech[1:]):
        if placed.start_ms - before.end_ms >= 500:
            assert np.min(np.abs(starts - placed.start_ms)) <= 100, placed


# Issue 12's target under a music bed 15 dB under the voice, over more onsets than one scene has: these
# thresholds are the target's, not the detector's tuning.
ONSET_MEDIAN_MS, ONSET_P90_MS = 100, 250
MONOLOGUE = [(1.0, "en02"), (0.3, "en04"), (0.8, "de01"), (0.2, "en05"), (2.5, "es01"), (0.6, "en01"),
             (0.5, "zh01"), (1.5, "en03"), (0.9, "en06")]


def music_scenes() -> list[Scene]:
    return [compose(layout, 1.0, music_db=-15, seed=seed) for seed in (1, 2, 3) for layout in (LAYOUT, MONOLOGUE)]


@pytest.mark.parametrize("method", ["energy", *NEURAL])
def test_onsets_under_music_are_on_time_and_long_silences_stay_silent(method):
    needs(method)
    errors, long_silence_marked = [], []
    for sc in music_scenes():
        spans = vad.detect_speech(sc.pcm, RATE, method)
        starts = np.array([s.start_ms for s in spans])
        for before, placed in zip(sc.speech, sc.speech[1:]):
            if placed.start_ms - before.end_ms >= 500:  # late or early, whichever span start is nearest
                errors.append(int(np.min(np.abs(starts - placed.start_ms))) if len(starts) else 10**6)
            if placed.start_ms - before.end_ms >= 2000:  # less the hangover and padding at each end
                long_silence_marked.append(overlap(spans, before.end_ms + 300, placed.start_ms - 300))
    assert len(errors) >= 30
    assert np.median(errors) <= ONSET_MEDIAN_MS and np.percentile(errors, 90) <= ONSET_P90_MS, sorted(errors)
    assert len(long_silence_marked) >= 6 and max(long_silence_marked) <= 100, long_silence_marked


def test_the_long_silence_is_not_speech(detected):
    sc, spans = detected
    start, end = sc.speech[LONG_SILENCE - 1].end_ms, sc.speech[LONG_SILENCE].start_ms
    assert overlap(spans, start + 300, end - 300) <= 100


def test_a_short_pause_does_not_split(detected_strict):
    sc, spans = detected_strict
    for first, second in zip(sc.speech, sc.speech[1:]):
        if second.start_ms - first.end_ms <= 200:
            assert any(s.start_ms < first.end_ms and second.start_ms < s.end_ms for s in spans), (first, second)


def test_a_music_bed_alone_is_not_speech():
    bed = compose([(0.0, "en06")], 20.0, music_db=-10).pcm[16000:]  # drop the utterance, keep 20 s of music
    marked = sum(s.duration_ms for s in vad.detect_speech(bed, RATE))
    assert marked <= 0.05 * len(bed) * 1000 // RATE


@pytest.mark.parametrize("method", vad.METHODS)
def test_blocks_and_a_pcm_file_give_the_same_result(method, tmp_path: Path):
    needs(method)  # the neural models carry state from chunk to chunk: blocks must not reset or split it
    pcm = scene("music -15").pcm
    raw = tmp_path / "track.raw"
    pcm.astype("<i2").tofile(raw)
    on_disk = PcmFile(raw)  # what the pipeline passes: read a block at a time
    whole = vad.detect_speech(pcm, RATE, method, block_s=3600)
    assert vad.detect_speech(on_disk, RATE, method) == whole
    assert vad.detect_speech(on_disk, RATE, method, block_s=0.5) == whole
    assert vad.detect_speech(on_disk, RATE, method, block_s=1.37) == whole  # blocks round down to frames


def test_frame_levels():
    size = RATE * vad.FRAME_MS // 1000
    t = np.arange(RATE) / RATE
    tone = (32767 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    hum = (32767 * np.sin(2 * np.pi * 50 * t)).astype(np.int16)
    silence = np.zeros(RATE // 2 + 7, dtype=np.int16)  # not a whole number of frames
    levels = vad.frame_levels(np.concatenate([tone, hum, silence]), RATE)
    frames = RATE // size
    assert levels.dtype == np.float32 and len(levels) == 2 * frames + -(-len(silence) // size)
    assert np.allclose(levels[:frames], -3.0, atol=0.2)  # a full-scale sine is 3 dB under full scale
    assert np.all(levels[frames:2 * frames] < -40)  # hum is outside the speech band
    assert np.all(levels[2 * frames:] == np.float32(vad.SILENCE_DB))
    assert np.array_equal(vad.frame_levels(tone, RATE, block_s=0.1), vad.frame_levels(tone, RATE))


def test_empty_and_silent_tracks_have_no_speech():
    for method in (m for m in vad.METHODS if not missing(m)):
        assert vad.detect_speech(np.zeros(0, dtype=np.int16), RATE, method) == ()
        assert vad.detect_speech(np.zeros(RATE * 3, dtype=np.int16), RATE, method) == ()
    assert len(vad.frame_levels(np.zeros(0, dtype=np.int16), RATE)) == 0


def test_tuning_overrides_and_errors():
    pcm = scene("clean").pcm
    padded = vad.detect_speech(pcm, RATE, "energy", pad_ms=100)
    plain = vad.detect_speech(pcm, RATE, "energy")
    assert [Span(s.start_ms - 60, s.end_ms + 60) for s in plain] == list(padded)
    with pytest.raises(OptionError, match="choose one of energy, webrtc, silero, ten"):
        vad.detect_speech(pcm, RATE, "vosk")
    with pytest.raises(OptionError, match="aggressiveness"):
        vad.detect_speech(pcm, RATE, "energy", aggressiveness=2)
