"""The ffmpeg binary dubber runs, and the one place that spawns it.

ffmpeg: ``$DUBBER_FFMPEG`` if set, else the system ``ffmpeg`` on PATH, else the static binary that the
imageio-ffmpeg wheel ships, so a plain ``pip install`` works on a machine with no ffmpeg at all.

Every command is built as a plain argument list by a pure function in this package (``audio``,
``clip``, ``loudness``, ``stretch``, ``mux``), so tests read the arguments without running anything; only
``run_ffmpeg`` and ``has_filter`` start a process.
"""
from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess

from dubber.errors import ToolError

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=None)
def _locate() -> tuple[str, str]:
    """The ffmpeg binary dubber runs, and where it was found (decided once a run)."""
    override = os.environ.get("DUBBER_FFMPEG")
    if override:
        return override, "DUBBER_FFMPEG"
    system = shutil.which("ffmpeg")
    if system:
        return system, "system"
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg"
    except (ImportError, RuntimeError) as exc:
        raise ToolError("no ffmpeg found: install ffmpeg or the imageio-ffmpeg package") from exc


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary dubber runs."""
    return _locate()[0]


def ffmpeg_source() -> str:
    """Where ``ffmpeg_exe`` found its binary: ``DUBBER_FFMPEG``, ``system`` (on PATH) or ``imageio-ffmpeg``."""
    return _locate()[1]


def ffmpeg_version() -> str:
    """The first line of ``ffmpeg -version`` (e.g. ``ffmpeg version 7.1 ...``)."""
    try:
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    return lines[0].split(" Copyright")[0].strip() if lines else f"unknown (exit {proc.returncode})"


def run_ffmpeg(args: list[str], *, what: str, loglevel: str = "error") -> str:
    """Run ffmpeg with ``args``; raise ToolError on failure. Returns ffmpeg's log, where analysis
    filters (``ebur128``) print their results at ``info`` level."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, "-y", *args]
    log.debug("running %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"ffmpeg failed while {what}: {lines[-1] if lines else f'exit {proc.returncode}'}")
    return proc.stderr.decode("utf-8", "replace")


@functools.lru_cache(maxsize=None)
def has_filter(name: str) -> bool:
    """Whether the ffmpeg in use has the filter ``name`` (a system ffmpeg may lack ``rubberband``)."""
    try:
        listing = subprocess.run([ffmpeg_exe(), "-hide_banner", "-filters"], capture_output=True, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
    return re.search(rf"^\s*\S+\s+{re.escape(name)}\s", listing.stdout.decode("utf-8", "replace"), re.M) is not None
