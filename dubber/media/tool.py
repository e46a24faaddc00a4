"""The ffmpeg binary dubber runs, and the one place that spawns it.

ffmpeg: ``$DUBBER_FFMPEG`` if set, else the system ``ffmpeg`` on PATH, else the static binary that the
imageio-ffmpeg wheel ships, so a plain ``pip install`` works on a machine with no ffmpeg at all.

Every command is built as a plain argument list by a pure function in this package (``audio``,
``clip``, ``loudness``, ``stretch``, ``mux``), so tests read the arguments without running anything; only
``run_ffmpeg``, ``FfmpegFeed`` (an ffmpeg fed on its stdin) and ``has_filter`` start a process.
"""
from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

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


STALL_S = 30.0  # an ffmpeg that has used no CPU this long is stuck, not slow: it reads local files only
ATTEMPTS = 3


def _command(args: list[str], loglevel: str) -> list[str]:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, "-y", *args]
    log.debug("running %s", " ".join(cmd))
    return cmd


def run_ffmpeg(args: list[str], *, what: str, loglevel: str = "error") -> str:
    """Run ffmpeg with ``args``; raise ToolError on failure. Returns ffmpeg's log, where analysis
    filters (``ebur128``) print their results at ``info`` level.

    The ffmpeg 9 that the imageio-ffmpeg wheel ships now and then deadlocks a many-input pass (every thread
    waiting on a futex, no CPU used; seen in about one mux in ten with a subtitle stream in the input and a
    subtitle file beside it). Where the process's CPU time can be read (Linux), one that has used none for
    ``STALL_S`` seconds is killed and run again, at most ``ATTEMPTS`` times in all."""
    cmd = _command(args, loglevel)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            returncode, text = _run(cmd)
            break
        except _Stalled:
            log.warning("ffmpeg stalled while %s (no CPU used for %.0f s); %s", what, STALL_S,
                        "running it again" if attempt < ATTEMPTS else "giving up")
    else:
        raise ToolError(f"ffmpeg stalled while {what} ({ATTEMPTS} times)")
    if returncode != 0:
        lines = text.strip().splitlines()
        raise ToolError(f"ffmpeg failed while {what}: {lines[-1] if lines else f'exit {returncode}'}")
    return text


class _Stalled(Exception):
    pass


def _cpu_ticks(pid: int) -> int | None:
    """The CPU time (user + system, in clock ticks) process ``pid`` has used; None where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def _run(cmd: list[str]) -> tuple[int, str]:
    """Run ``cmd`` with its log in a file (a pipe left unread while waiting could fill and stall it);
    raise _Stalled when it stops using CPU for STALL_S seconds."""
    try:
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
            try:
                returncode = _wait(proc)
            except BaseException:
                proc.kill()  # stalled, or Ctrl-C: ffmpeg must not outlive the attempt
                proc.wait()
                raise
            errors.seek(0)
            return returncode, errors.read().decode("utf-8", "replace")
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc


class _Idle:
    """How long a process has used no CPU, by its CPU ticks read now and then (0 where they cannot be read)."""

    def __init__(self, pid: int) -> None:
        self.pid, self._ticks, self._since = pid, _cpu_ticks(pid), time.monotonic()

    def seconds(self) -> float:
        now = _cpu_ticks(self.pid)
        if now is None or now != self._ticks:
            self._ticks, self._since = now, time.monotonic()
        return time.monotonic() - self._since if now is not None else 0.0


def _wait(proc: subprocess.Popen) -> int:
    """``proc``'s exit code; raise _Stalled when it uses no CPU for STALL_S seconds."""
    idle = _Idle(proc.pid)
    while True:
        try:
            return proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            if idle.seconds() >= STALL_S:
                raise _Stalled from None


class FfmpegFeed:
    """An ffmpeg that reads one input from its stdin while the caller makes it (``-i pipe:0`` in ``args``):
    ``write`` what is ready, then ``finish`` for its log (where ``ebur128`` prints); leaving the ``with``
    block any other way kills it.

    An ffmpeg may end, successfully, before its feed does (a mix that ends with its other input): what is
    written after that is not needed and is dropped. Waiting for input is its normal state, so it counts
    as stalled only when a write has been blocked (ffmpeg is not reading) while it used no CPU for
    ``STALL_S``, or when it uses none for that long after its input ended; it is then killed and, since
    its input is gone, not run again: a ToolError, as for a failure."""

    def __init__(self, args: list[str], *, what: str, loglevel: str = "info") -> None:
        self.what = what
        cmd = _command(args, loglevel)
        self._errors = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._errors)
        except OSError as exc:
            self._errors.close()
            raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
        self._ended = False  # it finished with what it had read: the rest of the feed is not needed
        self._stalled = False
        self._blocked_since: float | None = None  # when the write under way began
        threading.Thread(target=self._watch_writes, name="ffmpeg-feed-watch", daemon=True).start()

    def __enter__(self) -> "FfmpegFeed":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._proc.returncode is None:
            self.abort()
        self._errors.close()

    def write(self, data: bytes) -> None:
        """Hand ffmpeg the next stretch of its input (blocks while ffmpeg is behind)."""
        if self._ended:
            return
        self._blocked_since = time.monotonic()
        try:
            self._proc.stdin.write(data)
        except (BrokenPipeError, ValueError):  # ffmpeg has ended: a success, or its log says why not
            if self._proc.wait() == 0 and not self._stalled:
                self._ended = True
                return
            raise self._error() from None
        finally:
            self._blocked_since = None

    def finish(self) -> str:
        """End the input, wait for ffmpeg, and return its log."""
        try:
            self._proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            returncode = _wait(self._proc)
        except _Stalled:
            self._stalled = True
            self.abort()
            returncode = -1
        if returncode != 0:
            raise self._error()
        return self._log()

    def abort(self) -> None:
        """Kill it (a run that failed, or Ctrl-C): nothing it wrote is kept by the caller."""
        self._proc.kill()
        self._proc.wait()
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass

    def _watch_writes(self) -> None:
        """Kill ffmpeg when a write has been blocked while it used no CPU for STALL_S (deadlocked, like the
        many-input passes ``run_ffmpeg`` retries; a busy encoder uses CPU, and one waiting for input blocks
        no write)."""
        idle = _Idle(self._proc.pid)
        while self._proc.poll() is None:
            time.sleep(min(1.0, STALL_S / 4))
            still, blocked = idle.seconds(), self._blocked_since
            if blocked is not None and min(still, time.monotonic() - blocked) >= STALL_S:
                self._stalled = True
                self._proc.kill()
                return

    def _error(self) -> ToolError:
        if self._stalled:
            return ToolError(f"ffmpeg stalled while {self.what} (no CPU used for {STALL_S:.0f} s)")
        return ToolError(f"ffmpeg failed while {self.what}: {self._reason()}")

    def _log(self) -> str:
        self._errors.seek(0)
        return self._errors.read().decode("utf-8", "replace")

    def _reason(self) -> str:
        """The log's last error line (it prints at info level, so its last line may be a statistic)."""
        lines = [line for line in self._log().strip().splitlines() if line.strip()]
        errors = [line for line in lines if re.search(r"error|invalid|cannot|no such", line, re.I)]
        return (errors or lines or [f"exit {self._proc.returncode}"])[-1]


@functools.lru_cache(maxsize=None)
def has_filter(name: str) -> bool:
    """Whether the ffmpeg in use has the filter ``name`` (a system ffmpeg may lack ``rubberband``)."""
    try:
        listing = subprocess.run([ffmpeg_exe(), "-hide_banner", "-filters"], capture_output=True, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
    return re.search(rf"^\s*\S+\s+{re.escape(name)}\s", listing.stdout.decode("utf-8", "replace"), re.M) is not None
