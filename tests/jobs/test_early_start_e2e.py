"""The first requests go while the rest of a long input is decoded: the windows planned on the decoded
prefix are exactly the whole plan's first windows, whatever the detector and the background, and a run
that starts early writes what a run that does not would (real ffmpeg; the emulator over HTTP)."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from dubber.jobs.common import analyse
from dubber.media.probe import probe
from dubber.speech.windows import WindowOptions
from tests.support.cues import read_srt
from tests.support.mediagen import compose, write_media

VOICES = ["en01", "en02", "en03", "en04", "en05", "en06", "de01", "es01", "zh01"]


def _talk(seconds: float, seed: int, music_db: float | None = None):
    """Turns of one or two sentences; pauses between turns of 0.5-4 s, so some are long silences."""
    rng, layout, total = random.Random(seed), [], 0.0
    while total < seconds:
        pause = rng.choice([0.4, 0.8, 1.5, 2.5, 4.0])
        layout.append((pause, rng.choice(VOICES)))
        total += pause + 2.5
    return compose(layout, tail_s=1.0, music_db=music_db, seed=seed)


@pytest.mark.parametrize("vad, music_db, seed, seconds", [
    ("energy", None, 1, 150), ("energy", -15, 2, 150), ("webrtc", -20, 3, 150), ("ten", -15, 6, 150),
    ("silero", None, 7, 100),  # the slowest detector: a shorter talk
])
def test_the_prefix_windows_are_the_whole_plans_first_windows(tmp_path: Path, vad, music_db, seed, seconds):
    media = write_media(_talk(seconds, seed, music_db).pcm, tmp_path / "talk.wav")
    handed = []
    whole = analyse(probe(media), tmp_path, vad, WindowOptions(), early=handed.append, early_s=60)
    assert len(handed) == 1
    prefix = handed[0]
    assert len(prefix.windows) >= 3, "the prefix settled too little to be worth sending early"
    assert prefix.windows == whole.windows[:len(prefix.windows)]
    assert len(prefix.pcm) < len(whole.pcm) and prefix.windows[-1].end_ms < 60_000


def test_the_prefix_keeps_the_whole_plans_padding_when_long_silences_are_short(tmp_path: Path):
    """A last window's padding is bounded by half the pause after it, in the prefix as in the whole."""
    options = WindowOptions(long_silence_ms=300, min_ms=500, max_ms=4000, split_pause_ms=250, pad_ms=200)
    media = write_media(_talk(150, 8).pcm, tmp_path / "talk.wav")
    handed = []
    whole = analyse(probe(media), tmp_path, "energy", options, early=handed.append, early_s=60)
    assert handed and handed[0].windows == whole.windows[:len(handed[0].windows)]


def test_the_trusted_margin_covers_what_the_detectors_look_ahead():
    from dubber.jobs.common import TRUSTED_MARGIN_MS
    from dubber.speech.vad import FRAME_MS, EnergyTuning

    energy = EnergyTuning()
    hop_ms = max(1, energy.floor_window_ms // FRAME_MS // 8) * FRAME_MS  # rolling_floor's hop
    assert TRUSTED_MARGIN_MS >= energy.floor_window_ms // 2 + 2 * hop_ms + energy.hangover_ms + energy.pad_ms


def test_a_long_input_sends_its_first_windows_during_the_decode_and_writes_the_same(tmp_path: Path, run_dubber,
                                                                                     emulator):
    # over EARLY_S (300 s) with its margins: the run takes the early path; plan never does
    media = write_media(_talk(330, seed=4).pcm, tmp_path / "talk.wav")
    plan = run_dubber("plan", media, "--to", "fr", "--report", str(tmp_path / "plan.json"))
    assert plan.code == 0, plan.stderr
    sent = emulator.requests
    result = run_dubber("subtitles", media, "--to", "fr", "--format", "srt", "-v")
    assert result.code == 0, result.stderr
    assert "settled in the first 300 s" in result.log
    # requests (the SDK logs each at -v) went before the decode of the whole input had ended
    assert result.log.index("HTTP Request: POST") < result.log.index("extract: done")
    planned = json.loads((tmp_path / "plan.json").read_text())
    windows = planned["runs"][0]["details"]["estimate"]["windows"]
    assert emulator.requests - sent == windows  # each window sent once, early or not
    again = run_dubber("subtitles", media, "--to", "fr", "--format", "srt", "--out-dir", str(tmp_path / "again"),
                       "--no-cache")
    assert again.code == 0 and read_srt(tmp_path / "again" / "talk.fr.srt") == read_srt(tmp_path / "talk.fr.srt")


def test_a_long_dub_starts_early_too_and_its_mix_covers_the_whole_input(tmp_path: Path, run_dubber, emulator):
    from tests.support import avprobe

    media = write_media(_talk(330, seed=5).pcm, tmp_path / "talk.wav")
    sent = emulator.requests
    # speakers off: finding them needs the whole track first (a dub with speakers starts after the decode)
    result = run_dubber("dub", media, "--to", "de", "-o", str(tmp_path / "talk.de.mka"), "-v", "--speakers", "off",
                        "--report", str(tmp_path / "run.json"))
    assert result.code == 0, result.stderr
    assert result.log.index("HTTP Request: POST") < result.log.index("extract: done")
    requests = json.loads((tmp_path / "run.json").read_text())["runs"][0]["requests"]
    # each window sent once, early or not (a window whose audio another one already had comes from the cache)
    assert emulator.requests - sent == requests["sent"] and requests["sent"] + requests["cached"] == requests["windows"] > 40
    assert abs(avprobe.duration_s(tmp_path / "talk.de.mka") - avprobe.duration_s(media)) <= 0.05
