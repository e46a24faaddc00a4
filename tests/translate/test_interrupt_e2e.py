"""Stopping promptly: Ctrl-C, or a window that fails for good, sends nothing more and ends the run fast,
even while a slow answer is still on its way; nothing half-written is left, the cache stays consistent."""
from __future__ import annotations

import json
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
from tests.conftest import without_progress
from tests.support.mediagen import compose, write_media

SENTENCES = ["en01", "en02", "en03", "en04", "en05", "en06", "de01", "es01"] * 2
SLOW = 10.0  # seconds each answer takes: far longer than a prompt stop may


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    scene = compose([(2.5, name) for name in SENTENCES], tail_s=1.0)
    return write_media(scene.pcm, tmp_path_factory.mktemp("media") / "talk.wav")


def _start(emu: Emulator, dubber_env: dict, *args: object) -> subprocess.Popen:
    env = {**dubber_env, "DUBBER_BASE_URL": emu.base_url}
    return subprocess.Popen([sys.executable, "-m", "dubber", *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def _wait_for_requests(emu: Emulator, count: int) -> None:
    deadline = time.monotonic() + 30
    while emu.requests < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emu.requests >= count, "the run never reached the service"


@pytest.mark.parametrize("command", ["subtitles", "dub"])
def test_ctrl_c_exits_within_two_seconds_twice_pressed_without_a_traceback(command, talk, tmp_path, dubber_env):
    cache, out = tmp_path / "cache", tmp_path / "out"
    target = ["--out-dir", out] if command == "subtitles" else ["-o", out / "talk.fr.wav"]
    with Emulator(faults=Faults(latency=SLOW)) as emu:
        proc = _start(emu, dubber_env, command, talk, "--to", "fr", "--jobs", "2", "--cache-dir", cache, *target)
        _wait_for_requests(emu, 2)  # two answers under way, each 10 s from done
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # an impatient second press
        _, stderr = proc.communicate(timeout=30)
        stderr = without_progress(stderr)
        took = time.monotonic() - started
        assert proc.returncode == 130, stderr
        assert stderr.strip().splitlines() == ["dubber: interrupted"], stderr
        assert took < 2.0, f"took {took:.1f} s to stop"
        assert emu.requests <= 4, f"{emu.requests} of {len(SENTENCES)} windows were still sent"
    assert not out.exists() or not list(out.iterdir()), "something was written"
    for entry in cache.rglob("*.json"):  # whatever the cache holds is whole
        assert json.loads(entry.read_text())["sha256"]


def test_a_window_failing_for_good_stops_the_run(talk, tmp_path, dubber_env):
    """A rejected key fails every window: the run stops at the first answer, sending nothing more."""
    with Emulator(keys=["sk-only-this-one"], faults=Faults(latency=0.3)) as emu:
        proc = _start(emu, dubber_env, "subtitles", talk, "--to", "fr", "--jobs", "2", "--out-dir", tmp_path)
        _, stderr = proc.communicate(timeout=30)
        stderr = without_progress(stderr)
        assert proc.returncode == 1 and "401" in stderr and len(stderr.strip().splitlines()) == 1, stderr
        assert emu.requests <= 2, f"{emu.requests} requests were sent after the key was refused"
    assert list(tmp_path.iterdir()) == []


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
