"""`dubber live` end to end: generated talks read as a stream (at real time once, faster otherwise), the real
CLI in a subprocess against an emulator that answers in 1.0 s, the rolling WebVTT tailed as it grows, and
the HLS subtitle rendition played through a playlist parser."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import m3u8
import pytest
import srt
import webvtt

from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from tests.support.live import caption_latencies
from tests.support.mediagen import compose, write_media

PAUSES = [(0.8, "en01"), (1.4, "en02"), (1.2, "en03"), (0.6, "en05"), (1.0, "en04"), (1.3, "en06"),
          (0.9, "en01"), (1.1, "en03")]
CONTINUOUS = [(0.8, "en01"), (0.0, "en02"), (0.0, "en03"), (0.0, "en05"), (0.0, "en04"), (0.0, "en06"),
              (0.0, "en01"), (0.0, "en03")]
_ONE_MS = timedelta(milliseconds=1)
ANSWER_S = 1.0  # the emulator: every request answered after a second


@pytest.fixture(scope="module")
def slow_emulator():
    with Emulator(port=0, faults=Faults(latency=ANSWER_S)) as server:
        yield server


def _env(emulator, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DASHSCOPE_API_KEY" and not k.startswith("DUBBER_")}
    env.update(DASHSCOPE_API_KEY=DEFAULT_KEY, DUBBER_BASE_URL=emulator.base_url, XDG_CACHE_HOME=str(tmp_path / "c"),
               DUBBER_FFMPEG=os.environ["DUBBER_FFMPEG"])
    return env


def _ms(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def _cues(path: Path) -> list[tuple[int, int, str]]:
    return [(_ms(c.start), _ms(c.end), c.text) for c in webvtt.read(str(path))]


def _live(tmp_path: Path, emulator, layout, *args: str) -> tuple[subprocess.CompletedProcess, list, list[float], Path]:
    """Run `dubber live` on a talk, tailing live.fr.vtt: when each cue appeared (s since the process
    started)."""
    scene = compose(layout, tail_s=1.5)
    media = write_media(scene.pcm, tmp_path / "talk.wav")
    out = tmp_path / "out"
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "dubber", "live", str(media), "--to", "fr", "--out", str(out), "-q",
                             "--report", str(tmp_path / "report.json"), *args], env=_env(emulator, tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    vtt, seen, appeared = out / "live.fr.vtt", 0, []
    while proc.poll() is None:
        count = vtt.read_text(encoding="utf-8").count(" --> ") if vtt.exists() else 0
        appeared += [time.monotonic() - started] * (count - seen)
        seen = count
        time.sleep(0.01)
    stdout, stderr = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), list(scene.speech), appeared, out


def _captioned(speech, cues) -> list[bool]:
    return [any(a < utt.end_ms and b > utt.start_ms for a, b, _ in cues) for utt in speech]


def test_realtime_captions_arrive_within_three_seconds(tmp_path, slow_emulator):
    # the suite's one real-time run, kept short: the benchmark runs minutes (benchmarks/live_latency.py)
    result, speech, appeared, out = _live(tmp_path, slow_emulator, PAUSES[:6], "--realtime")
    assert result.returncode == 0, result.stderr
    cues = _cues(out / "live.fr.vtt")
    assert all(_captioned(speech, cues))
    assert len(appeared) == len(cues)
    latencies = sorted(caption_latencies(tmp_path / "report.json", speech, appeared))
    median, p90 = latencies[len(latencies) // 2], latencies[int(0.9 * (len(latencies) - 1))]
    assert median <= 2.0 and p90 <= 3.0, latencies


@pytest.mark.parametrize("layout", [PAUSES, CONTINUOUS], ids=["pauses", "continuous"])
def test_every_utterance_is_captioned_and_the_playlist_holds_the_final_cues(tmp_path, slow_emulator, layout):
    result, speech, _, out = _live(tmp_path, slow_emulator, layout, "--speed", "8", "--segment", "4", "--jobs", "8")
    assert result.returncode == 0, result.stderr
    final = _cues(out / "live.fr.vtt")
    assert all(_captioned(speech, final)), final
    assert [(a, b) for a, b, _ in final] == sorted((a, b) for a, b, _ in final)
    playlist = m3u8.load(str(out / "subs.fr.m3u8"))
    assert playlist.is_endlist and playlist.target_duration == 4
    played = []
    for segment in playlist.segments:
        for cue in _cues(out / segment.uri):
            if cue not in played:  # a cue across a boundary is in both segments
                played.append(cue)
    assert played == final
    duration_s = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["duration_ms"] / 1000
    assert abs(sum(s.duration for s in playlist.segments) - duration_s) < 0.05
    subs = list(srt.parse((out / "live.fr.srt").read_text(encoding="utf-8")))
    assert [(s.start // _ONE_MS, s.end // _ONE_MS, s.content) for s in subs] == final


def test_a_window_that_fails_for_good_is_a_gap_and_the_stream_goes_on(tmp_path):
    with Emulator(port=0, faults=Faults(fail_500_every=3)) as failing:
        result, speech, _, out = _live(tmp_path, failing, PAUSES, "--speed", "8", "--retries", "1")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    failed = [w for w in report["windows"] if not w["written_s"]]
    assert failed and report["failed_windows"] == len(failed)
    assert len(failed) < len(report["windows"])
    warnings = [line for line in result.stderr.splitlines() if "failed after its retries" in line]
    assert len(warnings) == len(failed)
    cues = _cues(out / "live.fr.vtt")
    assert cues and all(not (a < w["end_ms"] and b > w["start_ms"]) for w in failed for a, b, _ in cues
                        if a >= w["start_ms"])
    assert m3u8.load(str(out / "subs.fr.m3u8")).is_endlist


def test_ctrl_c_finishes_what_was_heard(tmp_path, slow_emulator):
    scene = compose(PAUSES, tail_s=1.5)
    media = write_media(scene.pcm, tmp_path / "talk.wav")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "dubber", "live", str(media), "--to", "fr", "--out", str(out),
                             "--realtime", "-q"], env=_env(slow_emulator, tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    vtt = out / "live.fr.vtt"
    deadline = time.monotonic() + 30
    while (not vtt.exists() or vtt.read_text(encoding="utf-8").count(" --> ") < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "stopping: finishing what was heard" in stderr
    cues = _cues(vtt)
    assert 2 <= len(cues) and cues[-1][1] < scene.duration_ms - 2000, "it stopped before the end"
    subs = list(srt.parse((out / "live.fr.srt").read_text(encoding="utf-8")))
    assert [(s.start // _ONE_MS, s.end // _ONE_MS, s.content) for s in subs] == cues
    assert m3u8.load(str(out / "subs.fr.m3u8")).is_endlist


@pytest.mark.parametrize("source, said", [("missing.wav", "missing.wav: no such file"),
                                          ("notes.txt", "notes.txt: no audio could be read")])
def test_a_source_that_cannot_be_read_is_one_line_and_writes_nothing(tmp_path, slow_emulator, source, said):
    (tmp_path / "notes.txt").write_text("not media", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "dubber", "live", str(tmp_path / source), "--to", "fr", "--out",
                             str(tmp_path / "out")], env=_env(slow_emulator, tmp_path), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("dubber: error:")]
    assert len(errors) == 1 and said in errors[0] and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()
