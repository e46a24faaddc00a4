"""The stall watchdog's clock, ffmpeg's CPU time, read through psutil on every platform; and what happens
where it cannot be read (a platform or a process that will not say): nothing is watched, and runs go on."""
from __future__ import annotations

import os
import time

import psutil
import pytest

from dubber.media import tool


def test_a_process_cpu_time_is_read_and_grows_with_work():
    before = tool.cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    after = tool.cpu_seconds(os.getpid())
    assert before is not None and after is not None and after - before >= 0.2


def test_a_process_that_is_gone_has_no_cpu_time():
    proc = psutil.Popen(["sleep", "0"])
    proc.wait()
    assert tool.cpu_seconds(proc.pid) is None


@pytest.fixture()
def unreadable(monkeypatch):
    """A platform that will not tell a process's CPU time (psutil's AccessDenied, as on a locked-down host)."""
    def refuse(pid=None):
        raise psutil.AccessDenied(pid)

    monkeypatch.setattr(psutil, "Process", refuse)


def test_without_cpu_times_nothing_counts_as_stalled_and_ffmpeg_still_runs(unreadable, tmp_path):
    assert tool.cpu_seconds(os.getpid()) is None
    idle = tool._Idle(os.getpid())
    time.sleep(0.05)
    assert idle.seconds() == 0.0  # a watchdog reading it never fires
    out = tmp_path / "tone.wav"
    tool.run_ffmpeg(["-f", "lavfi", "-i", "sine=d=0.2", str(out)], what="writing a tone")
    with tool.FfmpegFeed(["-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "pipe:0", str(tmp_path / "fed.wav")],
                         what="writing a fed tone") as feed:
        feed.write(bytes(1600))
        feed.finish()
    assert out.stat().st_size > 0 and (tmp_path / "fed.wav").stat().st_size > 1600
