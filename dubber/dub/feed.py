"""The dub rendered and handed to its encoder while its windows are still being translated.

Answers arrive in any order. ``Settler`` keeps the windows answered from the first on without a gap
(the *answered prefix*), and asks the timeline which of their placements nothing still to come can change
(``dubber.dub.timeline.settled_placements``: every clip of a later window starts at or after that
window's start). ``DubFeed`` renders those placements in a thread of its own (a sped-up clip runs ffmpeg)
and writes the finished part of the track to the encoder, so the main thread only books the answers in.
The last answer settles what is left: the clips after the last gap in the answers.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Callable, Sequence

from dubber.dub.render import TrackRender
from dubber.dub.timeline import Clip, FitOptions, Placement, settled_placements
from dubber.models import Window

log = logging.getLogger(__name__)


class Settler:
    """Which placements are settled as the windows' clips arrive (pure bookkeeping, no threads)."""

    def __init__(self, windows: Sequence[Window], duration_ms: int, options: FitOptions) -> None:
        self._position = {w.index: k for k, w in enumerate(windows)}
        self._starts = [w.start_ms for w in windows]
        self._waiting: dict[int, tuple[Clip, ...]] = {}  # answered after a gap: position -> its clips
        self._answered = 0  # windows answered from the first on
        self._open: list[Clip] = []  # their clips not settled yet, in the timeline's order
        self._settled: list[Placement] = []
        self.duration_ms, self.options = duration_ms, options

    def arrive(self, index: int, clips: Sequence[Clip]) -> tuple[list[Placement], int]:
        """Book window ``index``'s clips in; the placements this settles (in time order, after the ones
        before), and where the first clip not yet settled may start (the track is final up to there)."""
        self._waiting[self._position[index]] = tuple(clips)
        while self._answered in self._waiting:
            voiced = [c for c in self._waiting.pop(self._answered) if c.length_ms > 0]
            self._open = sorted(self._open + voiced, key=lambda c: (c.onset_ms, c.index, c.part))
            self._answered += 1
        horizon = self._starts[self._answered] if self._answered < len(self._starts) else None
        return self._settle(horizon)

    def plan(self) -> list[Placement]:
        """The whole plan, once every window is in (the last answer settled what was left)."""
        if self._answered < len(self._starts):
            raise ValueError(f"{len(self._starts) - self._answered} windows have not been answered")
        return list(self._settled)

    def _settle(self, horizon: int | None) -> tuple[list[Placement], int]:
        # Only the clips still open are fitted: the last settled one plays at natural speed (a run of
        # sped-up clips settles whole), and a clip's fit looks only ahead, so nothing before it can change
        # theirs. Each answer costs the few open clips, not the hour's.
        new = settled_placements(self._open, self.duration_ms, self.options, horizon)
        self._open = self._open[len(new):]
        self._settled += new
        first_open = min(max(self._open[0].onset_ms, 0), self.duration_ms) if self._open else None
        limits = [t for t in (first_open, horizon) if t is not None]
        return new, min(limits) if limits else self.duration_ms


_DONE = object()


class DubFeed:
    """Renders settled placements into ``sink`` (the encoder's stdin) in a thread of its own. ``push`` from
    the thread that books the answers in; ``close`` once every window is in. An error in the thread (the
    encoder died) is raised by the next ``push`` or by ``close``, so the run stops paying for requests."""

    def __init__(self, render: TrackRender, sink: Callable[[bytes], None]) -> None:
        self.render, self.sink = render, sink
        self._work: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dub-feed", daemon=True)
        self._thread.start()

    def push(self, placements: Sequence[Placement], next_start_ms: int) -> None:
        """Render ``placements`` (settled, in time order) and hand over the track up to where it is final,
        given that no clip still to come starts before ``next_start_ms``."""
        self._raise()
        self._work.put((tuple(placements), next_start_ms))

    def close(self, end_ms: int) -> None:
        """Hand over the rest of the track, to ``end_ms``, and wait for all of it to be written."""
        self._work.put(((), None, end_ms))
        self._work.put(_DONE)
        self._thread.join()
        self._raise()

    def stop(self) -> None:
        """Give up (the run failed): the thread ends after its current step (the caller kills the encoder,
        so a write it is blocked in ends too)."""
        self._work.put(_DONE)
        self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            while (item := self._work.get()) is not _DONE:
                self._step(*item)
        except BaseException as exc:  # handed to the booking thread
            self._error = exc

    def _step(self, placements: tuple[Placement, ...], next_start_ms: int | None, end_ms: int | None = None) -> None:
        render = self.render
        final = render.finished_ms(next_start_ms) if next_start_ms is not None else end_ms
        for placement in placements:
            for chunk in render.add(placement):
                self.sink(chunk)
        for chunk in render.take(final):
            self.sink(chunk)

