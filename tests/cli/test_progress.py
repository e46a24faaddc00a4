"""Which progress display a stream gets: bars on a terminal, lines elsewhere, nothing when quiet; and
DUBBER_PROGRESS overriding the guess. Streams here are stand-ins that say whether they are a terminal, so
this runs on every platform, with or without pseudo-terminals."""
from __future__ import annotations

import io

import pytest

from dubber.cli.progress import PlainProgress, TerminalProgress, is_terminal, progress_for
from dubber.events import NO_EVENTS


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture(autouse=True)
def _a_plain_environment(monkeypatch):
    monkeypatch.delenv("DUBBER_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")


@pytest.mark.parametrize("tty, term, setting, bars", [
    (True, "xterm", None, True),
    (False, "xterm", None, False),  # a pipe, a file, a CI log
    (True, "dumb", None, False),
    (False, "xterm", "bars", True),  # a console that does not say it is a terminal
    (True, "dumb", " Bars ", True),
    (True, "xterm", "lines", False),
    (True, "xterm", "sometimes", True),  # not a choice: the guess stands
    (False, "xterm", "", False),
])
def test_bars_where_the_stream_is_a_terminal_unless_dubber_progress_says(monkeypatch, tty, term, setting, bars):
    monkeypatch.setenv("TERM", term)
    if setting is not None:
        monkeypatch.setenv("DUBBER_PROGRESS", setting)
    assert is_terminal(_Stream(tty)) is bars


def test_the_display_follows_the_guess_and_quiet_wins_over_everything(monkeypatch):
    assert isinstance(progress_for(_Stream(True), quiet=False), TerminalProgress)
    assert isinstance(progress_for(_Stream(False), quiet=False), PlainProgress)
    monkeypatch.setenv("DUBBER_PROGRESS", "bars")
    assert isinstance(progress_for(_Stream(False), quiet=False), TerminalProgress)
    assert progress_for(_Stream(True), quiet=True) is NO_EVENTS
