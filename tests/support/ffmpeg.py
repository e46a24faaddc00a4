"""The ffmpeg builds the tests run, chosen explicitly, never through whatever PATH holds.

The suite's binary is ``--ffmpeg PATH`` (or ``$DUBBER_TEST_FFMPEG``), else the one the imageio-ffmpeg wheel
ships; ``tests/conftest.py`` sets it as ``DUBBER_FFMPEG`` for in-process tests and for every CLI run.
``builds()`` adds the other builds the compatibility suite runs through: the distribution's
(``/usr/bin/ffmpeg``: ``.ci/run`` installs Debian's) and the static builds that older imageio-ffmpeg wheels
carry, fetched by pip once and kept in the user cache folder.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dubber.media.capability import capabilities
from dubber.media.stretch import stretch_method
from dubber.media.tool import ffmpeg_exe, wheel_binary


@dataclass(frozen=True)
class Build:
    name: str  # as the test ids show it: "wheel", "debian", "static-7.0.2", "static-4.2.2"
    path: str | None  # None: not to be had here (``missing`` says why)
    missing: str = ""


# imageio-ffmpeg releases and the static ffmpeg their wheels carry
STATIC = {"7.0.2": "0.6.0", "4.2.2": "0.5.1"}
SYSTEM = "/usr/bin/ffmpeg"


def suite_binary(option: str | None = None) -> str:
    """The binary the suite runs: the option, the variable, else the wheel's."""
    chosen = option or os.environ.get("DUBBER_TEST_FFMPEG")
    if chosen:
        return chosen
    wheel = wheel_binary()
    if wheel is None:
        raise RuntimeError("the tests need the imageio-ffmpeg wheel's ffmpeg, or --ffmpeg PATH")
    return wheel.path


def stretch() -> str:
    """The stretch method a run with the suite's binary uses."""
    return stretch_method(capabilities(ffmpeg_exe()).filters)


def _store() -> Path:
    base = os.environ.get("DUBBER_TEST_BUILDS") or Path.home() / ".cache" / "dubber-test-builds"
    return Path(base)


def static_build(version: str) -> Build:
    """The static ffmpeg ``version`` from its imageio-ffmpeg wheel: fetched by pip the first time, then kept."""
    release = STATIC[version]
    folder = _store() / release
    found = sorted(folder.glob("ffmpeg-*")) if folder.is_dir() else []
    if not found:
        try:
            found = [_fetch(release, folder)]
        except (OSError, subprocess.CalledProcessError, LookupError) as exc:
            return Build(f"static-{version}", None, f"cannot fetch imageio-ffmpeg {release}: {exc}")
    return Build(f"static-{version}", str(found[0]))


def _fetch(release: str, folder: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                        "-d", tmp, f"imageio-ffmpeg=={release}"], check=True, capture_output=True, timeout=600)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            member = next(n for n in archive.namelist() if "/binaries/ffmpeg-" in n)
            folder.mkdir(parents=True, exist_ok=True)
            dest = folder / Path(member).name
            part = dest.with_suffix(".part")
            part.write_bytes(archive.read(member))
            part.chmod(0o755)
            part.replace(dest)  # whole or not at all: a killed fetch leaves no half binary behind
    return dest


def builds() -> list[Build]:
    """Every build the compatibility suite runs through, each either with its path or why it is missing."""
    wheel = wheel_binary()
    found = [Build("wheel", wheel.path if wheel else None, "" if wheel else "imageio-ffmpeg has no binary here")]
    found.append(Build("debian", SYSTEM) if Path(SYSTEM).exists() else Build("debian", None, f"no {SYSTEM}"))
    return found + [static_build(version) for version in STATIC]
