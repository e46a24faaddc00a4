"""The ffmpeg binary dubber runs, and the one place that spawns it.

The candidates, in the order dubber prefers them: ``$DUBBER_FFMPEG`` alone when set (an explicit choice is
never swapped for another), else the system ``ffmpeg`` on PATH, then the static binary that the
imageio-ffmpeg wheel ships, so a plain ``pip install`` works on a machine with no ffmpeg at all. Which one
a run uses is decided by ``dubber.media.capability.choose`` (what each can do, checked once per binary),
which calls ``use``; until then the first candidate is used.

Every command is built as a plain argument list by a pure function in this package (``audio``,
``clip``, ``stretch``, ``mux``), so tests read the arguments without running anything; only
``run_ffmpeg``, ``FfmpegFeed`` (an ffmpeg fed on its stdin) and ``describe`` (what a binary says of
itself) start a process.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import psutil

from dubber.errors import ToolError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Binary:
    """An ffmpeg binary, and where it was found: ``DUBBER_FFMPEG``, ``system`` (on PATH) or ``imageio-ffmpeg``."""

    path: str
    source: str


def wheel_binary() -> Binary | None:
    """The ffmpeg the imageio-ffmpeg wheel ships, if it is installed and has one for this platform."""
    try:
        import imageio_ffmpeg

        return Binary(imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg")
    except (ImportError, RuntimeError):
        return None


def candidates() -> tuple[Binary, ...]:
    """The binaries dubber may run, most preferred first (see the module docstring); each file once."""
    override = os.environ.get("DUBBER_FFMPEG")
    if override:
        return (Binary(override, "DUBBER_FFMPEG"),)
    found = [b for b in (_system_binary(), wheel_binary()) if b is not None]
    unique: dict[str, Binary] = {}
    for binary in found:
        unique.setdefault(os.path.realpath(binary.path), binary)
    if not unique:
        raise ToolError("no ffmpeg found: install ffmpeg 4.4 or newer, or the imageio-ffmpeg package")
    return tuple(unique.values())


def _system_binary() -> Binary | None:
    system = shutil.which("ffmpeg")
    return Binary(system, "system") if system else None


_chosen: Binary | None = None


def use(binary: Binary) -> None:
    """Run ``binary`` from now on (the capability check's choice)."""
    global _chosen
    if binary != _chosen:
        log.debug("using ffmpeg %s (%s)", binary.path, binary.source)
    _chosen = binary


def chosen() -> Binary:
    """The binary dubber runs: the one ``use`` chose if it is still a candidate, else the first candidate."""
    found = candidates()
    return _chosen if _chosen in found else found[0]


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary dubber runs."""
    return chosen().path


def describe(exe: str, flag: str) -> str:
    """What ``exe`` prints for ``flag`` (``-version``, ``-filters``, ``-encoders``, ``-muxers``); a binary that
    cannot be started is a ToolError."""
    try:
        proc = subprocess.run([exe, "-hide_banner", flag], capture_output=True, check=False, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"cannot run ffmpeg {exe} ({getattr(exc, 'strerror', None) or exc})") from exc
    return proc.stdout.decode("utf-8", "replace")


def version_line(text: str) -> str:
    """The first line of ``ffmpeg -version``'s output, without its copyright (``ffmpeg version 7.1 ...``).

    >>> version_line("ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\\nbuilt with")
    'ffmpeg version 5.1.9-0+deb12u1'
    """
    lines = text.splitlines()
    return lines[0].split(" Copyright")[0].strip() if lines else "unknown version"


STALL_S = 30.0  # an ffmpeg that has used no CPU this long is stuck, not slow: it reads local files only
ATTEMPTS = 3


def _command(args: list[str], loglevel: str, exe: str | None) -> list[str]:
    cmd = [exe or ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, "-y", *args]
    log.debug("running %s", " ".join(cmd))
    return cmd


def run_ffmpeg(args: list[str], *, what: str, loglevel: str = "error", exe: str | None = None) -> str:
    """Run ffmpeg with ``args``; raise ToolError on failure. Returns ffmpeg's log, where analysis
    filters (``ebur128``) print their results at ``info`` level.

    The ffmpeg 9 that the imageio-ffmpeg wheel ships now and then deadlocks a many-input pass (every thread
    waiting on a futex, no CPU used; seen in about one mux in ten with a subtitle stream in the input and a
    subtitle file beside it). Where the process's CPU time can be read (psutil: Linux, macOS, Windows), one
    that has used none for ``STALL_S`` seconds is killed and run again, at most ``ATTEMPTS`` times in all.
    ``exe``: a binary other than the chosen one (the capability check's)."""
    cmd = _command(args, loglevel, exe)
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


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system) process ``pid`` has used; None where it cannot be read (gone, or the
    platform will not say): the stall watchdogs then never fire, and a run is only as safe as ffmpeg."""
    try:
        used = psutil.Process(pid).cpu_times()
    except (psutil.Error, OSError):
        return None
    return used.user + used.system


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
    """How long a process has used no CPU, by its CPU time read now and then (0 where it cannot be read)."""

    def __init__(self, pid: int) -> None:
        self.pid, self._ticks, self._since = pid, cpu_seconds(pid), time.monotonic()

    def seconds(self) -> float:
        now = cpu_seconds(self.pid)
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


_OWN_GROUP: dict = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if sys.platform == "win32"
                    else {"start_new_session": True})


class FfmpegFeed:
    """An ffmpeg that reads one input from its stdin while the caller makes it (``-i pipe:0`` in ``args``):
    ``write`` what is ready, then ``finish`` for its log (where ``ebur128`` prints); leaving the ``with``
    block any other way kills it.

    An ffmpeg may end, successfully, before its feed does (a mix that ends with its other input): what is
    written after that is not needed and is dropped. Waiting for input is its normal state, so it counts
    as stalled only when a write has been blocked (ffmpeg is not reading) while it used no CPU for
    ``STALL_S``, or when it uses none for that long after its input ended; it is then killed and, since
    its input is gone, not run again: a ToolError, as for a failure."""

    def __init__(self, args: list[str], *, what: str, loglevel: str = "info", exe: str | None = None) -> None:
        self.what = what
        cmd = _command(args, loglevel, exe)
        self._errors = tempfile.TemporaryFile()
        try:
            # in a process group of its own: a terminal's Ctrl-C reaches dubber, which ends its feed (a live
            # run finishes what was heard) or kills it (abort), instead of cutting the encoder short itself
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._errors,
                                          **_OWN_GROUP)
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


class FfmpegReader:
    """An ffmpeg whose output the caller reads as it comes (``pipe:1`` in ``args``): a live source decoded
    to PCM. ``read`` blocks until ffmpeg writes (a stream that waits on its network waits here: no stall
    watchdog, as waiting is normal); ``close`` ends it; ``reason`` says why it ended. ``stdin``: the
    caller's (``-i pipe:0``: a source on dubber's standard input), else none."""

    def __init__(self, args: list[str], *, what: str, stdin: bool = False, exe: str | None = None) -> None:
        self.what = what
        cmd = _command(args, "error", exe)
        if stdin:
            cmd.remove("-nostdin")
        self._errors = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(cmd, stdin=None if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=self._errors)
        except OSError as exc:
            self._errors.close()
            raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes of output, as soon as there are any; b"" once ffmpeg has ended."""
        return self._proc.stdout.read1(size)

    def close(self) -> int:
        """End it (if it still runs) and return its exit code."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.stdout.close()
        code = self._proc.wait()
        return code

    def errors(self) -> list[str]:
        """What it logged (at ``error`` level: a dropped connection says so even when ffmpeg exits 0)."""
        self._errors.seek(0)
        return [line for line in self._errors.read().decode("utf-8", "replace").splitlines() if line.strip()]

    def reason(self) -> str:
        """The last line of its log (why it ended), or its exit code."""
        lines = self.errors()
        return lines[-1] if lines else f"exit {self._proc.returncode}"

    def __enter__(self) -> "FfmpegReader":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        self._errors.close()
