"""Stopping promptly: Ctrl-C, or a window that fails for good, sends nothing more and ends the run fast."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dubber.emulator import Emulator, Faults
from dubber.errors import AuthError, TransientError
from dubber.translate.retry import RetryPolicy, Stopped, with_retries
from tests.support.mediagen import compose, write_media

SENTENCES = ["en01", "en02", "en03", "en04", "en05", "en06", "de01", "es01"] * 2


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    scene = compose([(2.5, name) for name in SENTENCES], tail_s=1.0)
    return write_media(scene.pcm, tmp_path_factory.mktemp("media") / "talk.wav")


def test_ctrl_c_sends_nothing_more_and_exits_130(talk, tmp_path, dubber_env):
    with Emulator(faults=Faults(latency=1.0)) as emu:  # 16 windows, 2 at a time: 8 s if nothing stopped
        env = {**dubber_env, "DUBBER_BASE_URL": emu.base_url}
        proc = subprocess.Popen([sys.executable, "-m", "dubber", "subtitles", str(talk), "--to", "en",
                                 "--jobs", "2", "--out-dir", str(tmp_path / "out")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while emu.requests < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - started
        assert proc.returncode == 130, stderr
        assert stderr.strip().splitlines()[-1] == "dubber: interrupted" and "Traceback" not in stderr
        assert took < 5.0, took  # only the requests under way are waited for
        assert emu.requests <= 4, f"{emu.requests} of {len(SENTENCES)} windows were still sent"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_stop_ends_a_backoff_at_once():
    stop = threading.Event()
    calls = []

    def call():
        calls.append(time.monotonic())
        raise TransientError("429", retry_after=30)

    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        with_retries(call, RetryPolicy(attempts=5, base_s=0.01, max_wait_s=60), stop)
    assert time.monotonic() - started < 2 and len(calls) == 1


def test_a_fail_fast_error_is_not_retried_even_with_attempts_left():
    calls = []

    def call():
        calls.append(1)
        raise AuthError("401")

    with pytest.raises(AuthError):
        with_retries(call, RetryPolicy(attempts=5, base_s=0.01))
    assert calls == [1]
