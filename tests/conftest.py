"""Shared fixtures: a live emulator on loopback, and the dubber CLI run as a real subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dubber.emulator import DEFAULT_KEY, Emulator

# The CLI runs with a PATH holding only the interpreter's folder: no system ffmpeg can be picked up,
# so every test exercises the ffmpeg that the install itself brings.
BARE_PATH = os.path.dirname(sys.executable)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


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
    env = {k: v for k, v in os.environ.items() if k not in ("DASHSCOPE_API_KEY", "DUBBER_BASE_URL", "DUBBER_FFMPEG")}
    env.update(PATH=BARE_PATH, DASHSCOPE_API_KEY=DEFAULT_KEY, DUBBER_BASE_URL=emulator.base_url,
               XDG_CACHE_HOME=str(cache_home))
    return env


@pytest.fixture()
def run_dubber(dubber_env):
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        proc = subprocess.run([sys.executable, "-m", "dubber", *map(str, args)], env=env or dubber_env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run
