"""Shared fixtures: a live emulator on loopback, and the dubber CLI run as a real subprocess; the ffmpeg
every test runs, chosen explicitly (``--ffmpeg PATH``, else ``$DUBBER_TEST_FFMPEG``, else the wheel's)."""
from __future__ import annotations

import compileall
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from dubber.emulator import DEFAULT_KEY, Emulator
from dubber.media import capability
from tests.support.ffmpeg import suite_binary

# The CLI runs with a PATH holding only the interpreter's folder, and DUBBER_FFMPEG naming the suite's
# binary: what ffmpeg a test runs is never an accident of the machine's PATH.
BARE_PATH = os.path.dirname(sys.executable)
_SESSION: dict[str, str] = {}


def pytest_addoption(parser):
    parser.addoption("--ffmpeg", default=None, metavar="PATH",
                     help="the ffmpeg every test runs (default: $DUBBER_TEST_FFMPEG, else the imageio-ffmpeg wheel's)")


def pytest_configure(config):
    """Before any test: the suite's ffmpeg for in-process tests, a user cache folder of the session's own
    (nothing lands in the developer's), and the binary checked once, so that each test's cache folder
    starts with its findings instead of checking it again."""
    # Every CLI test runs dubber in a subprocess: compiled once here, each of them reads the bytecode instead
    # of compiling the package again (about 0.35 s a run; PYTHONDONTWRITEBYTECODE, set on CI's machines,
    # stops Python from keeping what it compiles)
    compileall.compile_dir(Path(__file__).resolve().parents[1] / "dubber", quiet=1)
    exe = suite_binary(config.getoption("--ffmpeg"))
    _SESSION.update(exe=exe, cache=tempfile.mkdtemp(prefix="dubber-tests-cache-"))
    os.environ.update(DUBBER_FFMPEG=exe, XDG_CACHE_HOME=_SESSION["cache"])
    capability.capabilities(exe)


def pytest_unconfigure(config):
    if "cache" in _SESSION:
        shutil.rmtree(_SESSION["cache"], ignore_errors=True)


def pytest_report_header(config):
    return f"ffmpeg: {_SESSION.get('exe')}"


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
    """Each test gets its own user cache folder (XDG_CACHE_HOME), so no test sees another's answers; it
    holds only the session's ffmpeg check."""
    home = tmp_path_factory.mktemp("cache-home")
    shutil.copytree(capability.folder(), home / "dubber" / "ffmpeg")
    return home


@pytest.fixture()
def suite_ffmpeg() -> str:
    """The ffmpeg every test runs."""
    return _SESSION["exe"]


@pytest.fixture()
def dubber_env(emulator, cache_home):
    # no DUBBER_* setting of the developer's shell (DUBBER_JOBS, ...) may change what a test sees
    env = {k: v for k, v in os.environ.items() if k != "DASHSCOPE_API_KEY" and not k.startswith("DUBBER_")}
    env.update(PATH=BARE_PATH, DASHSCOPE_API_KEY=DEFAULT_KEY, DUBBER_BASE_URL=emulator.base_url,
               XDG_CACHE_HOME=str(cache_home), DUBBER_FFMPEG=_SESSION["exe"])
    return env


@pytest.fixture()
def run_dubber(dubber_env):
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        proc = subprocess.run([sys.executable, "-m", "dubber", *map(str, args)], env=env or dubber_env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return Run(proc.returncode, proc.stdout, without_progress(proc.stderr), proc.stderr)

    return run
