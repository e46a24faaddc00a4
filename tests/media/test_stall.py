"""An ffmpeg that deadlocks (no CPU used, never exits) is killed and run again; one that keeps stalling
is a one-line error, and nothing is left running."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dubber.errors import ToolError
from dubber.media import tool


def _script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "ffmpeg"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_stalled_ffmpeg_is_run_again(tmp_path, monkeypatch, caplog):
    real = tool.ffmpeg_exe()
    marker = tmp_path / "stalled-once"
    # the first run sleeps (a deadlocked process uses no CPU); the next is the real ffmpeg
    script = _script(tmp_path, f'if [ ! -e "{marker}" ]; then touch "{marker}"; exec sleep 60; fi\nexec "{real}" "$@"')
    monkeypatch.setattr(tool, "ffmpeg_exe", lambda: str(script))
    monkeypatch.setattr(tool, "STALL_S", 1.5)
    out = tmp_path / "tone.wav"
    tool.run_ffmpeg(["-f", "lavfi", "-i", "sine=d=0.5", str(out)], what="writing a tone")
    assert marker.exists() and out.stat().st_size > 1000
    assert "ffmpeg stalled while writing a tone" in caplog.text


def test_an_ffmpeg_that_keeps_stalling_is_one_error(tmp_path, monkeypatch):
    script = _script(tmp_path, "exec sleep 60")
    monkeypatch.setattr(tool, "ffmpeg_exe", lambda: str(script))
    monkeypatch.setattr(tool, "STALL_S", 1.0)
    monkeypatch.setattr(tool, "ATTEMPTS", 2)
    with pytest.raises(ToolError, match=r"ffmpeg stalled while writing a tone \(2 times\)"):
        tool.run_ffmpeg(["-version"], what="writing a tone")


def test_a_fed_ffmpeg_gets_its_input_as_it_is_made_and_gives_its_log(tmp_path):
    import numpy as np

    out = tmp_path / "fed.wav"
    with tool.FfmpegFeed(["-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-af", "volumedetect", str(out)],
                         what="writing what it is fed") as feed:
        for k in range(4):  # four pieces, each written when ready
            feed.write((np.full(2000, 1000 * (k + 1), dtype="<i2")).tobytes())
        log = feed.finish()
    assert "max_volume" in log and out.stat().st_size >= 2 * 8000 + 44


def test_a_fed_ffmpeg_that_dies_or_stalls_is_one_error_and_is_not_left_running(tmp_path, monkeypatch):
    script = _script(tmp_path, 'head -c 10 > /dev/null; echo "no such filter" >&2; exit 1')
    monkeypatch.setattr(tool, "ffmpeg_exe", lambda: str(script))
    with tool.FfmpegFeed(["-i", "pipe:0"], what="encoding the dub") as feed:
        with pytest.raises(ToolError, match="ffmpeg failed while encoding the dub: no such filter"):
            for _ in range(1000):  # until the pipe breaks
                feed.write(b"\0" * 65536)
    stuck = _script(tmp_path, 'cat > /dev/null; exec sleep 60')  # reads all it is fed, then hangs
    monkeypatch.setattr(tool, "ffmpeg_exe", lambda: str(stuck))
    monkeypatch.setattr(tool, "STALL_S", 1.0)
    with tool.FfmpegFeed(["-i", "pipe:0"], what="encoding the dub") as feed:
        feed.write(b"\0" * 1000)
        with pytest.raises(ToolError, match=r"ffmpeg stalled while encoding the dub \(no CPU used for 1 s\)"):
            feed.finish()
        assert feed._proc.poll() is not None  # killed


def test_a_fed_ffmpeg_that_ends_well_before_its_feed_does_is_not_an_error(tmp_path, monkeypatch):
    # a mix ends with its other input: ffmpeg exits 0 and the rest of what it is fed is not needed
    script = _script(tmp_path, 'head -c 1000 > /dev/null; echo "mixed" >&2; exit 0')
    monkeypatch.setattr(tool, "ffmpeg_exe", lambda: str(script))
    with tool.FfmpegFeed(["-i", "pipe:0"], what="encoding the dub") as feed:
        for _ in range(100):
            feed.write(b"\0" * 65536)
        assert "mixed" in feed.finish()


def test_a_fed_ffmpeg_that_stops_reading_and_uses_no_cpu_is_killed(tmp_path, monkeypatch):
    script = _script(tmp_path, "exec sleep 60")  # deadlocked: reads nothing more, uses no CPU
    monkeypatch.setattr(tool, "ffmpeg_exe", lambda: str(script))
    monkeypatch.setattr(tool, "STALL_S", 1.0)
    with tool.FfmpegFeed(["-i", "pipe:0"], what="encoding the dub") as feed:
        with pytest.raises(ToolError, match=r"ffmpeg stalled while encoding the dub \(no CPU used for 1 s\)"):
            for _ in range(1000):  # the pipe fills, and the write blocks until the watchdog kills it
                feed.write(b"\0" * 65536)
