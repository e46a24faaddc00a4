"""What a running job tells whoever watches it: the stage it is in and how far along, and each window's
outcome as it is known. The jobs call these; the CLI shows them (a progress display) and records them
(``--report``). The base class does nothing, so a job run from Python needs no watcher.

Every call comes from the thread that runs the job (the fetcher reports windows from its collecting
loop, not from its workers), so a watcher needs no locks.
"""
from __future__ import annotations

from dataclasses import dataclass

from dubber.models import Usage

# The stages, in the order a run passes them (a run may skip some, and repeats the per-language ones).
STAGES = ("extract", "transcribe", "translate", "render", "mux", "write")


@dataclass(frozen=True)
class WindowRecord:
    """How one window's request went."""

    index: int
    start_ms: int
    end_ms: int
    task: str  # "translate" or "transcribe"
    language: str | None  # the target's code; None when transcribing
    status: str  # "ok" or "failed"
    cached: bool  # answered from the window cache: nothing was sent
    attempts: int  # requests sent for it (0 when cached; more than 1 when retried)
    seconds: float  # from its first attempt to its answer (or its last failure)
    usage: Usage | None = None  # what the service reported for it (a cached answer: what it reported then)
    error: str | None = None  # why it failed


class Events:
    """A watcher of a run; override what you need. ``total`` and ``advance`` are in the stage's ``unit``
    (seconds of media for extract and mux, windows for transcribe and translate, clips for render)."""

    def stage(self, name: str, total: float | None = None, unit: str = "", detail: str = "") -> None:
        """A stage begins (the one before it, if any, has ended); ``detail`` names e.g. its language."""

    def advance(self, amount: float = 1.0) -> None:
        """The current stage moved on by ``amount``."""

    def window(self, record: WindowRecord) -> None:
        """A window's request was answered, came from the cache, or failed for good."""

    def status(self, text: str) -> None:
        """What the stage under way wants seen now (a live run: the current latency)."""

    def done(self) -> None:
        """The run ended (either way): the last stage has ended."""


NO_EVENTS = Events()
