"""Running dubber with its stderr on a terminal, to see what it draws there.

Where Python has pseudo-terminals (``pty``: Linux, macOS, the BSDs), dubber runs on one, 120 columns wide,
and finds out by itself that it is on a terminal. Where it has none (Windows), dubber is told to draw its
bars on a pipe (``DUBBER_PROGRESS=bars``): the same bars, but its own guess goes untried there
(``tests/cli/test_progress.py`` tries the guess with stand-in streams on every platform).
"""
from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Sequence

COLUMNS, LINES = 120, 40


@dataclass(frozen=True)
class Drawn:
    code: int
    text: str  # what dubber wrote to its stderr
    on_pty: bool  # False: on a pipe, bars asked for


def run_on_a_terminal(args: Sequence[object], env: dict[str, str], timeout: float = 120) -> Drawn:
    """``dubber *args`` run to its end with stderr on a terminal (a pty where there is one)."""
    try:
        import pty
    except ImportError:  # Windows: no pseudo-terminals
        return _bars_on_a_pipe(args, env, timeout)
    return _on_a_pty(pty.openpty(), args, env, timeout)


def _command(args: Sequence[object]) -> list[str]:
    return [sys.executable, "-m", "dubber", *map(str, args)]


def _bars_on_a_pipe(args: Sequence[object], env: dict[str, str], timeout: float) -> Drawn:
    env = {**env, "DUBBER_PROGRESS": "bars", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}  # tqdm reads the size
    proc = subprocess.run(_command(args), env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)
    return Drawn(proc.returncode, proc.stderr.decode("utf-8", "replace"), on_pty=False)


def _on_a_pty(ends: tuple[int, int], args: Sequence[object], env: dict[str, str], timeout: float) -> Drawn:
    import fcntl  # where there is a pty, there are these (Unix)
    import termios

    main, secondary = ends
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    try:
        proc = subprocess.Popen(_command(args), env={**env, "TERM": "xterm"}, stdout=subprocess.PIPE,
                                stderr=secondary, stdin=subprocess.DEVNULL)
    finally:
        os.close(secondary)  # dubber holds the only other end: reading it ends when dubber does
    try:
        drawn = _read_to_the_end(main, time.monotonic() + timeout)
        code = proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
        proc.stdout.close()
    return Drawn(code, drawn.decode("utf-8", "replace"), on_pty=True)


def _read_to_the_end(main: int, deadline: float) -> bytes:
    """All that is written on the pty until its other end closes (read as it comes: a full pty blocks its
    writer)."""
    drawn = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("dubber was still drawing on its terminal at the time-out")
        if not select.select([main], [], [], left)[0]:
            continue
        try:
            chunk = os.read(main, 4096)
        except OSError:  # Linux: the other end closed, the run has ended
            return drawn
        if not chunk:  # macOS and the BSDs say so with an end of file
            return drawn
        drawn += chunk
