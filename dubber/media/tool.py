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
import tempfile
from typing import IO, Callable

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


def run_ffmpeg(args: list[str], *, what: str, loglevel: str = "error",
               progress: Callable[[float], None] | None = None) -> str:
    """Run ffmpeg with ``args``; raise ToolError on failure. Returns ffmpeg's log, where analysis
    filters (``loudnorm``) print their results at ``info`` level. ``progress`` hears, as ffmpeg goes, how
    many more seconds of its output are done (its ``-progress`` report, read from stdout)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, "-y"]
    cmd += ["-progress", "pipe:1", "-nostats", *args] if progress is not None else args
    log.debug("running %s", " ".join(cmd))
    try:
        # the log goes to a file, not a pipe: read while the progress pipe is read, it could fill and stall
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if progress else subprocess.DEVNULL, stderr=errors)
            try:
                if progress is not None:
                    _follow(proc.stdout, progress)
            except BaseException:
                proc.kill()  # Ctrl-C, or the watcher failed: ffmpeg must not outlive the run
                raise
            finally:
                returncode = proc.wait()
            errors.seek(0)
            text = errors.read().decode("utf-8", "replace")
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
    if returncode != 0:
        lines = text.strip().splitlines()
        raise ToolError(f"ffmpeg failed while {what}: {lines[-1] if lines else f'exit {returncode}'}")
    return text


def _follow(stream: IO[bytes], progress: Callable[[float], None]) -> None:
    """Read ffmpeg's ``-progress`` key=value lines and report each step of ``out_time_us`` in seconds."""
    reached = 0.0
    for line in stream:
        key, _, value = line.decode("ascii", "replace").strip().partition("=")
        if key == "out_time_us" and value.isdigit():
            now = int(value) / 1e6
            if now > reached:
                progress(now - reached)
                reached = now


@functools.lru_cache(maxsize=None)
def has_filter(name: str) -> bool:
    """Whether the ffmpeg in use has the filter ``name`` (a system ffmpeg may lack ``rubberband``)."""
    try:
        listing = subprocess.run([ffmpeg_exe(), "-hide_banner", "-filters"], capture_output=True, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
    return re.search(rf"^\s*\S+\s+{re.escape(name)}\s", listing.stdout.decode("utf-8", "replace"), re.M) is not None
