"""Showing a run's progress: tqdm bars on a terminal, plain timestamped lines anywhere else (a CI log
holds no control characters), nothing with ``--quiet``. Both read the job's events (``dubber.events``).

``DUBBER_PROGRESS=bars`` or ``=lines`` overrides the guess (``--quiet`` still wins): bars on a console that
does not say it is a terminal (some IDE consoles, mintty on Windows), lines on a terminal whose output is
kept. The tests draw bars through it where there is no pseudo-terminal to run dubber on (Windows).
"""
from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterator, TextIO

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from dubber.events import NO_EVENTS, Events, WindowRecord


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def _amount(value: float, unit: str) -> str:
    return f"{value:.0f} {unit}" if unit != "s" else _clock(value)


class _Stage:
    """The stage under way: its name, size and progress, and its windows' outcomes so far."""

    def __init__(self, name: str, total: float | None, unit: str, detail: str, now: float) -> None:
        self.title = f"{name} {detail}".strip()
        self.total, self.unit, self.started = total, unit, now
        self.done = 0.0
        self.cached = self.retried = self.failed = 0

    def tally(self, record: WindowRecord) -> None:
        self.cached += record.cached
        self.retried += record.attempts > 1
        self.failed += record.status == "failed"

    def notes(self) -> str:
        found = [f"{n} {what}" for n, what in ((self.cached, "cached"), (self.retried, "retried"),
                                                (self.failed, "failed")) if n]
        return ", ".join(found)


class PlainProgress(Events):
    """One line when a stage begins, one at least ``every`` seconds while it runs (done/total, percent,
    time left), and one when it ends; each line starts with the UTC time, as CI logs read best."""

    def __init__(self, stream: TextIO, label: str = "", every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.stream, self.label, self.every, self.clock, self.now = stream, label, every, clock, now
        self.current: _Stage | None = None
        self.shown = 0.0

    def _line(self, text: str) -> None:
        stamp = self.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        where = f"{self.label}: " if self.label else ""
        self.stream.write(f"{stamp} dubber: {where}{text}\n")
        self.stream.flush()

    def stage(self, name: str, total: float | None = None, unit: str = "", detail: str = "") -> None:
        self._end()
        self.current = _Stage(name, total, unit, detail, self.clock())
        self.shown = self.current.started
        size = f" ({_amount(total, unit)})" if total is not None else ""
        self._line(f"{self.current.title}{size}")

    def advance(self, amount: float = 1.0) -> None:
        stage = self.current
        if stage is None:
            return
        stage.done += amount
        if self.clock() - self.shown >= self.every and stage.total:
            self.shown = self.clock()
            elapsed = self.shown - stage.started
            share = min(1.0, stage.done / stage.total)
            left = f", about {_clock(elapsed * (1 - share) / share)} left" if share > 0 else ""
            notes = f", {stage.notes()}" if stage.notes() else ""
            self._line(f"{stage.title}: {_clock(stage.done) if stage.unit == 's' else f'{stage.done:.0f}'} of "
                       f"{_amount(stage.total, stage.unit)} "
                       f"({100 * share:.0f}%{left}{notes})")

    def window(self, record: WindowRecord) -> None:
        if self.current is not None:
            self.current.tally(record)

    def _end(self) -> None:
        stage, self.current = self.current, None
        if stage is not None:
            notes = f" ({stage.notes()})" if stage.notes() else ""
            self._line(f"{stage.title}: done in {self.clock() - stage.started:.1f} s{notes}")

    def status(self, text: str) -> None:
        if self.current is not None and self.clock() - self.shown >= self.every:
            self.shown = self.clock()
            self._line(f"{self.current.title}: {text}")

    def done(self) -> None:
        self._end()


class TerminalProgress(Events):
    """A tqdm bar per stage (done/total, rate, time left), replaced by the next stage's."""

    def __init__(self, stream: TextIO, label: str = "") -> None:
        self.stream, self.label = stream, label
        self.bar: tqdm | None = None
        self.current: _Stage | None = None

    def stage(self, name: str, total: float | None = None, unit: str = "", detail: str = "") -> None:
        self.done()
        self.current = _Stage(name, total, unit, detail, time.monotonic())
        where = f"{self.label}: " if self.label else ""
        self.bar = tqdm(total=total, desc=where + self.current.title, unit=f" {unit}" if unit else "",
                        file=self.stream, leave=False, dynamic_ncols=True,
                        bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}{unit} [{elapsed}<{remaining}{postfix}]")

    def advance(self, amount: float = 1.0) -> None:
        if self.bar is not None:
            self.bar.update(amount)

    def window(self, record: WindowRecord) -> None:
        if self.current is not None and self.bar is not None:
            self.current.tally(record)
            notes = self.current.notes()
            if notes:
                self.bar.set_postfix_str(notes, refresh=False)

    def status(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = self.current = None


PROGRESS_ENV = "DUBBER_PROGRESS"


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that draws bars (not a pipe, a file, a CI log or a dumb terminal),
    unless ``DUBBER_PROGRESS`` says ``bars`` or ``lines`` (any other value: the guess)."""
    chosen = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if chosen in ("bars", "lines"):
        return chosen == "bars"
    return stream.isatty() and os.environ.get("TERM", "") != "dumb"


def progress_for(stream: TextIO, quiet: bool, label: str = "") -> Events:
    """The progress display for ``stream``: none when quiet, bars on a terminal, else plain lines."""
    if quiet:
        return NO_EVENTS
    return TerminalProgress(stream, label) if is_terminal(stream) else PlainProgress(stream, label)


@contextmanager
def logging_beside_bars(stream: TextIO) -> Iterator[None]:
    """While bars are drawn on ``stream``, log lines are written above them rather than through them."""
    if is_terminal(stream):
        with logging_redirect_tqdm(loggers=[logging.getLogger()]):
            yield
    else:
        yield
