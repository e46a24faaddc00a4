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
