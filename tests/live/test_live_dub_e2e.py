"""`dubber live --dub` end to end: a generated talk read as a stream, the real CLI in a subprocess against the
emulator, and the HLS audio rendition it writes parsed as a player would (``m3u8``), decoded by ffmpeg and
listened to: dubbed speech over every utterance, silence in the pauses and where a window failed, the
captions as without --dub, Ctrl-C finishing both. Then the rendition's graph through every supported ffmpeg
build, with clips at known times: a sample of the track plays at its time on the stream."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import m3u8
import numpy as np
import pytest

from dubber.emulator import Emulator, Faults
from dubber.live.dubtrack import DUB_RATE, LiveDub
from dubber.media.capability import capabilities
from dubber.media.stretch import stretch_method
from dubber.media.tool import run_ffmpeg
from dubber.models import Span, Translation, TranslationResult, Window
from tests.live.test_live_e2e import _cues, _env, _live
from tests.support.avprobe import decode_audio, voiced_ms
from tests.support.ffmpeg import builds
from tests.support.loudness import measure_loudness
from tests.support.mediagen import compose, write_media

# pauses of 1.2 s and more between some utterances, where the dub must be silent
LAYOUT = [(0.8, "en01"), (1.6, "en02"), (0.6, "en03"), (1.4, "en05"), (0.5, "en04"), (2.0, "en06"), (1.2, "en01")]
SUITE_FFMPEG = os.environ["DUBBER_FFMPEG"]  # the suite's (tests/conftest.py), whatever a test runs
COVERED = 0.6  # (0.78-0.83 measured) the least share of an utterance's 10 ms frames that dubbed speech sounds over
AFTER_MS, BEFORE_MS = 500, 150  # a pause is silent from this long after an utterance to this long before the next


@pytest.fixture(scope="module")
def emulator():
    with Emulator(port=0) as server:
        yield server


def _decoded(playlist: Path, folder: Path) -> np.ndarray:
    """The rendition as a player plays it: the playlist read by ffmpeg's HLS demuxer (the suite's ffmpeg,
    whichever made it: the static 7.0.2 build crashes opening a playlist's segments), decoded to mono."""
    wav = folder / f"{playlist.stem}.wav"
    run_ffmpeg(["-i", str(playlist), "-ac", "1", "-ar", str(DUB_RATE), "-c:a", "pcm_s16le", str(wav)],
               what="decoding the dub's playlist", exe=SUITE_FFMPEG)
    return decode_audio(wav)[0]


def test_the_dub_is_an_hls_audio_rendition_with_speech_over_every_utterance(tmp_path, emulator):
    result, speech, _, out = _live(tmp_path, emulator, LAYOUT, "--speed", "8", "--segment", "4", "--dub")
    assert result.returncode == 0, result.stderr
    playlist_path = out / "audio.fr.m3u8"
    assert str(playlist_path) in result.stdout.splitlines()
    playlist = m3u8.load(str(playlist_path))
    assert playlist.is_endlist and playlist.playlist_type == "event" and playlist.target_duration == 4
    assert all(s.uri.startswith("audio.fr.") and s.uri.endswith(".ts") for s in playlist.segments)
    duration_s = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["duration_ms"] / 1000
    assert abs(sum(s.duration for s in playlist.segments) - duration_s) < 0.1

    track = _decoded(playlist_path, tmp_path)
    assert abs(len(track) / DUB_RATE - duration_s) < 0.1
    voiced = set(voiced_ms(track, DUB_RATE).tolist())
    for utt in speech:
        frames = range(utt.start_ms - utt.start_ms % 10, utt.end_ms, 10)
        share = sum(f in voiced for f in frames) / len(frames)
        assert share >= COVERED, (utt, share)
    pauses = [(a.end_ms + AFTER_MS, b.start_ms - BEFORE_MS) for a, b in zip(speech, speech[1:])
              if b.start_ms - a.end_ms >= 1100]
    assert len(pauses) == 4
    for lo, hi in pauses:
        assert not [f for f in voiced if lo <= f < hi], (lo, hi)
    assert not [f for f in voiced if f < speech[0].start_ms - BEFORE_MS]
    level = measure_loudness(["-i", str(tmp_path / "audio.fr.wav")])
    assert level is not None and abs(level.integrated - -23.0) <= 1.5, level


def test_the_captions_are_the_same_with_and_without_the_dub(tmp_path):
    # The emulator seeds its placeholder text with the voice asked for (a real service's words do not
    # depend on it): a fixed answer keeps the words out of the comparison, leaving the windows and the cues.
    with Emulator(port=0, answer_text="Bonjour à tous. Voici la suite du discours, dite plus longuement.") as server:
        runs = {}
        for dub in (False, True):
            folder = tmp_path / ("dub" if dub else "plain")
            folder.mkdir()
            runs[dub] = _live(folder, server, LAYOUT, "--speed", "8", *(("--dub",) if dub else ()))
    for result, *_ in runs.values():
        assert result.returncode == 0, result.stderr
    plain, dubbed = runs[False][3], runs[True][3]
    assert _cues(dubbed / "live.fr.vtt") == _cues(plain / "live.fr.vtt") != []
    for name in ("live.fr.srt", "subs.fr.m3u8", "subs.fr.0.vtt"):
        assert (dubbed / name).read_bytes() == (plain / name).read_bytes(), name
    assert not (plain / "audio.fr.m3u8").exists()


def test_a_window_that_fails_leaves_silence_in_the_dub(tmp_path):
    with Emulator(port=0, faults=Faults(fail_500_every=3)) as failing:
        result, speech, _, out = _live(tmp_path, failing, LAYOUT, "--speed", "8", "--retries", "1", "--dub")
    assert result.returncode == 0, result.stderr
    windows = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["windows"]
    failed = [w for w in windows if not w["written_s"]]
    assert failed and len(failed) < len(windows)
    playlist = m3u8.load(str(out / "audio.fr.m3u8"))
    assert playlist.is_endlist
    voiced = voiced_ms(_decoded(out / "audio.fr.m3u8", tmp_path), DUB_RATE)
    assert len(voiced) > 100  # the windows answered are dubbed
    for w in failed:  # the window before ends its dub 100 ms before it; the one after starts at its speech
        assert not [f for f in voiced if w["start_ms"] <= f < w["end_ms"] - 20], w


@pytest.mark.parametrize("group", [False, True], ids=["dubber", "terminal"])
def test_ctrl_c_finishes_the_dub_too(tmp_path, emulator, group):
    """Ctrl-C, sent to dubber or (from a terminal) to its whole process group: the dub's ffmpeg runs in a
    group of its own, so the dub is finished to the end of what was heard, as the captions are."""
    media = write_media(compose(LAYOUT, tail_s=1.5).pcm, tmp_path / "talk.wav")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "dubber", "live", str(media), "--to", "fr", "--out", str(out),
                             "--speed", "2", "--dub", "-q", "--report", str(tmp_path / "report.json")],
                            env=_env(emulator, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    vtt = out / "live.fr.vtt"
    deadline = time.monotonic() + 30
    while (not vtt.exists() or vtt.read_text(encoding="utf-8").count(" --> ") < 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "stopping: finishing what was heard" in stderr
    assert "the dub stops where Ctrl-C reached its ffmpeg" not in stderr, stderr
    playlist = m3u8.load(str(out / "audio.fr.m3u8"))
    assert playlist.is_endlist and playlist.segments
    duration_s = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["duration_ms"] / 1000
    dubbed_s = sum(s.duration for s in playlist.segments)
    assert duration_s - 0.1 <= dubbed_s <= duration_s + 0.1, (dubbed_s, duration_s)
    assert (out / "live.fr.srt").exists() and _cues(vtt)


@pytest.mark.parametrize("args, said", [(["--voice", "Ethan"], "--voice is the dub's: give --dub too"),
                                        (["--dub", "--voice", "Nobody"], "unknown voice 'Nobody'")])
def test_a_voice_is_refused_without_the_dub_or_unknown(tmp_path, emulator, args, said):
    talk = tmp_path / "talk.wav"
    talk.write_bytes(b"")  # refused before the source is opened
    result = subprocess.run([sys.executable, "-m", "dubber", "live", str(talk), "--to", "fr", "--out",
                             str(tmp_path / "out"), "--backend", "omni", *args], env=_env(emulator, tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and said in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


SUPPORTED = ("wheel", "debian", "static-7.0.2")
_BUILDS = {build.name: build for build in builds()}


def _speech(ms: int, seed: int = 3) -> bytes:
    """A buzz ``ms`` long at DUB_RATE, as a speaking service answers (PCM16), with silence around it."""
    t = np.arange(ms * DUB_RATE // 1000) / DUB_RATE
    buzz = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2)
    pcm = np.concatenate([np.zeros(2400), 0.3 * buzz / np.max(np.abs(buzz)), np.zeros(2400)])
    return np.round(pcm * 32767).astype("<i2").tobytes()


@pytest.mark.parametrize("name", SUPPORTED)
def test_the_rendition_keeps_the_stream_s_time_through_every_build(tmp_path, monkeypatch, name):
    build = _BUILDS[name]
    if build.path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every build: {name}: {build.missing}")
        pytest.skip(f"{name}: {build.missing}")
    monkeypatch.setenv("DUBBER_FFMPEG", build.path)
    stretch = stretch_method(capabilities(build.path).filters)
    first = Window(0, 900, 2300, (Span(1000, 2200),))  # 2.8 s of dub for a slot to 2.9 s: 1.3x, then cut
    second = Window(1, 3000, 4400, (Span(3100, 4300),))  # 0.8 s: as it is; the stream ends at 6.5 s
    dub = LiveDub(tmp_path, "fr", 2000, stretch)
    dub.next_window(first.start_ms)
    dub.add(first, Translation(first, TranslationResult("un", _speech(2800))))
    dub.advance(2500)  # the next window may still start at 2.5 s: the first clip waits
    assert dub.rendered_ms == 0
    dub.add(second, Translation(second, TranslationResult("deux", _speech(800))))
    assert dub.rendered_ms == 2900
    dub.advance(6000)  # no window can start before 6 s: the second clip fits at natural speed, and is final
    assert dub.rendered_ms == 6000
    dub.close(6500)
    playlist = m3u8.load(str(dub.playlist))
    assert playlist.is_endlist and len(playlist.segments) == 4
    assert abs(sum(s.duration for s in playlist.segments) - 6.5) < 0.05
    track = _decoded(dub.playlist, tmp_path)
    voiced = voiced_ms(track, DUB_RATE)
    heard = [f for f in voiced if f < 3000], [f for f in voiced if f >= 3000]
    # each clip starts at its speech onset, within a 10 ms frame; the first fills its slot sped up and cut
    # (a clip keeps 10 ms of silence either side of its sound)
    assert abs(heard[0][0] - 1000) <= 20 and 2860 <= heard[0][-1] < 2900, heard[0][::20]
    assert abs(heard[1][0] - 3100) <= 20 and abs(heard[1][-1] - 3900) <= 20, heard[1][::20]
    level = measure_loudness(["-i", str(tmp_path / "audio.fr.wav")], exe=SUITE_FFMPEG)
    assert level is not None and abs(level.integrated - -23.0) <= 1.0 and level.peak <= -1.0, level
