"""Shared fixtures: a live emulator on loopback, and the dubber CLI run as a real subprocess."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dubber.emulator import DEFAULT_KEY, Emulator

# The CLI runs with a PATH holding only the interpreter's folder: no system ffmpeg can be picked up,
# so every test exercises the ffmpeg that the install itself brings.
BARE_PATH = os.path.dirname(sys.executable)


# A progress line as dubber writes it when stderr is not a terminal (dubber.cli.progress.PlainProgress).
PROGRESS_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ dubber: .*\n?", re.MULTILINE)


def without_progress(stderr: str) -> str:
    """``stderr`` without its progress lines: what the run said (errors, warnings, its summary)."""
    return PROGRESS_LINE.sub("", stderr)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str  # without the progress lines (see ``log``)
    log: str = ""  # stderr whole, progress lines included


@pytest.fixture(scope="session")
def emulator():
    with Emulator(port=0) as server:
        yield server


@pytest.fixture()
def cache_home(tmp_path_factory) -> Path:
    """Each test gets its own empty user cache folder (XDG_CACHE_HOME), so no test sees another's answers."""
    return tmp_path_factory.mktemp("cache-home")


@pytest.fixture()
def dubber_env(emulator, cache_home):
    # no DUBBER_* setting of the developer's shell (DUBBER_JOBS, ...) may change what a test sees
    env = {k: v for k, v in os.environ.items() if k != "DASHSCOPE_API_KEY" and not k.startswith("DUBBER_")}
    env.update(PATH=BARE_PATH, DASHSCOPE_API_KEY=DEFAULT_KEY, DUBBER_BASE_URL=emulator.base_url,
               XDG_CACHE_HOME=str(cache_home))
    return env


@pytest.fixture()
def run_dubber(dubber_env):
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        proc = subprocess.run([sys.executable, "-m", "dubber", *map(str, args)], env=env or dubber_env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return Run(proc.returncode, proc.stdout, without_progress(proc.stderr), proc.stderr)

    return run
