"""Running a command over its inputs: each input in turn with its own outputs, its progress shown and
recorded; one input failing does not stop the others (but a rejected key, which would fail them all,
does); a summary of every input's outcome; the report written, whatever happened; one exit code.

Exit codes, the same in every command: 0 success, 1 the run failed, 2 a usage or input error, 3 no
speech found (valid, empty outputs were written), 130 interrupted. A batch exits 0 when every input
succeeded, with the inputs' common code when they all ended the same way, else 1.
"""
from __future__ import annotations

import functools
import glob
import logging
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from dubber.cli.progress import logging_beside_bars, progress_for
from dubber.errors import AuthError, DubberError, InputError, OptionError, UnfitToolError
from dubber.engine import EngineOptions
from dubber.engine.ledger import Books
from dubber.events import NO_EVENTS, Events
from dubber.jobs.outputs import guard_input, prepare_dir, write_text_atomic
from dubber.jobs.runreport import Fanout, Recorder, RunFacts, RunOutcome, WarningLog, document, run_entry, to_json

log = logging.getLogger(__name__)

OK, FAILED, USAGE, NO_SPEECH, INTERRUPTED = 0, 1, 2, 3, 130
_STATUS = {OK: "ok", NO_SPEECH: "no_speech", INTERRUPTED: "interrupted"}


def exit_code_of(error: DubberError) -> int:
    """2 for what the user can fix in the command line, the input or the ffmpeg at hand, 1 for a run that
    failed."""
    return USAGE if isinstance(error, (OptionError, InputError, UnfitToolError)) else FAILED


def batch_code(codes: Sequence[int]) -> int:
    """The exit code of a batch: 0 when all succeeded, their common code when all ended alike, else 1.

    >>> batch_code([0, 0]), batch_code([3, 3]), batch_code([0, 2]), batch_code([2, 2])
    (0, 3, 1, 2)
    """
    distinct = set(codes)
    if INTERRUPTED in distinct:
        return INTERRUPTED
    return distinct.pop() if len(distinct) == 1 else FAILED


def expand_inputs(patterns: Sequence[str]) -> list[Path]:
    """The inputs named: a path as given, a pattern (``*.mp4``, ``media/**/*.mkv``) as the files it
    matches, sorted; each file once. A pattern matching nothing is kept, to be reported as missing."""
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) and not Path(pattern).exists() \
            else []
        found += [Path(m) for m in matches if Path(m).is_file()] or [Path(pattern)]
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def check_distinct_outputs(inputs: Sequence[Path], out_dir: Path | str | None) -> None:
    """Two inputs of a batch must not write the same files: with ``--out-dir`` (a folder, or a URL), two
    inputs of one stem would (``a/talk.mp4`` and ``b/talk.mp4`` both make ``talk.fr.srt``)."""
    stems: dict[str, Path] = {}
    for path in inputs:
        folder = out_dir if out_dir is not None else path.parent
        key = f"{folder}/{path.stem}" if isinstance(folder, str) else str(folder.resolve() / path.stem)
        if key in stems:
            raise OptionError(f"{stems[key]} and {path} would write the same files in {folder}: "
                              "give them different --out-dir runs")
        stems[key] = path


@dataclass(frozen=True)
class Shown:
    """What a command made of one finished run: its exit code (0, or 3 for no speech), its outputs, its
    own facts for the report, and what to tell: ``notes`` (always shown) and ``summary`` (unless quiet).
    The runner shows them once the run's progress display has ended."""

    code: int
    outputs: tuple[Path | str, ...]  # str: a URL (--out-dir s3://...)
    details: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunUI:
    """How a run talks: quietly or not, and where its report goes."""

    quiet: bool = False
    report: Path | None = None

    def check(self, inputs: Sequence[Path]) -> None:
        """Refuse, before anything runs, a report that could not be written or would replace an input."""
        if self.report is not None:
            prepare_dir(self.report.parent)
            guard_input([self.report], *inputs)

    def say(self, text: str) -> None:
        """A line of the run's own account (not an error), unless quiet."""
        if not self.quiet:
            click.echo(text, err=True)


RunOne = Callable[[Path, Events], Shown]


def run_inputs(inputs: Sequence[Path], run_one: RunOne, facts: RunFacts, ui: RunUI,
               engine: EngineOptions | None = None) -> int:
    """Run ``run_one`` on each input; returns the exit code (see the module). Ctrl-C stops the batch, and
    its report is still written (the inputs not reached are ``not_run``). With a distributed ``engine``,
    each input is a task on its cluster, with at most its ``account_limit`` requests in flight over all."""
    started, clock = datetime.now(timezone.utc), time.monotonic()
    batch = len(inputs) > 1
    entries: list[dict[str, Any]] = []
    if engine is not None and engine.distributed:
        facts = replace(facts, engine={"kind": engine.kind, "address": engine.address, "workers": engine.workers,
                                       "account_concurrency": engine.account_limit})
        try:
            entries, books = _run_on_cluster(inputs, functools.partial(attempt, run_one=run_one, batch=batch), ui,
                                             engine)
        except _Interrupted as interrupted:
            _finish(interrupted.entries, facts, ui, started, clock, summary=False)
            raise KeyboardInterrupt from None
        facts = replace(facts, engine={**facts.engine, "peak_in_flight": books.peak_in_flight,
                                       "rate_limit_cuts": books.cuts, "lowest_limit": books.lowest_limit,
                                       "workers_lost": books.expired_holders})
        return _finish(entries, facts, ui, started, clock, summary=batch)
    stop: str | None = None
    try:
        for path in inputs:
            if stop is not None:
                entries.append(not_run(path, stop))
                continue
            with logging_beside_bars(sys.stderr):
                tried = attempt(path, run_one, batch, progress_for(sys.stderr, ui.quiet, path.name if batch else ""))
            tell(tried, ui)
            entries.append(tried.entry)
            if tried.refused:
                stop = refused_line(tried.refused)
    except _Interrupted as interrupted:
        entries += interrupted.entries
        entries += [not_run(p, "not run: interrupted", INTERRUPTED) for p in inputs[len(entries):]]
        _finish(entries, facts, ui, started, clock, summary=False)
        raise KeyboardInterrupt from None
    return _finish(entries, facts, ui, started, clock, summary=batch)


def _run_on_cluster(inputs: Sequence[Path], tries: Callable[[Path], Attempt], ui: RunUI,
                    engine: EngineOptions) -> tuple[list[dict[str, Any]], Books]:
    """Every input as a task on the cluster; each told as it ends, the progress counting inputs done. Returns
    the inputs' report entries, and the account's books."""
    from dubber.engine.cluster import Cluster  # the ray extra

    entries: dict[int, dict[str, Any]] = {}
    stop: str | None = None
    shows = progress_for(sys.stderr, ui.quiet, "")
    try:  # Ctrl-C, even while the cluster starts: every input not ended is reported as interrupted
        with Cluster(engine) as cluster, logging_beside_bars(sys.stderr):
            shows.stage("inputs", total=len(inputs), unit="inputs")
            try:
                for index, tried in cluster.map(tries, inputs):
                    entries[index], refused = _told(inputs[index], tried, ui, stop)
                    if refused and stop is None:  # it would fail them all: stop the others now
                        stop = refused_line(refused)
                        cluster.cancel()
                    shows.advance(1)
            finally:
                shows.done()
            books = cluster.books()
    except KeyboardInterrupt:
        raise _Interrupted(*(entries.get(i) or not_run(p, "not run: interrupted", INTERRUPTED)
                             for i, p in enumerate(inputs))) from None
    log.info("cluster: at most %d requests were in flight at once (limit %d)", books.peak_in_flight,
             engine.account_limit)
    if books.cuts:
        log.warning("the service rate-limited this run: the cluster's requests in flight were cut %d times, to %d "
                    "at the fewest (of %d)", books.cuts, books.lowest_limit, engine.account_limit)
    return [entries[i] for i in range(len(inputs))], books


def _told(path: Path, tried: Any, ui: RunUI, stop: str | None) -> tuple[dict[str, Any], str | None]:
    """A task's end, told: its report entry, and the error when the service refused the key."""
    from dubber.engine.cluster import Cancelled

    if isinstance(tried, Cancelled):
        return not_run(path, stop or "not run: cancelled"), None
    if isinstance(tried, DubberError):  # the cluster lost the task
        tried = Attempt(run_entry(RunOutcome(path, "failed", FAILED, 0.0, str(tried)), None), error=f"{path}: {tried}")
    tell(tried, ui)
    return tried.entry, tried.refused


def not_run(path: Path, why: str, code: int = FAILED) -> dict[str, Any]:
    return run_entry(RunOutcome(path, "not_run", code, 0.0, why), None)


def refused_line(error: str) -> str:
    return f"not run: the service refused the key ({error})"


class _Interrupted(Exception):
    def __init__(self, *entries: dict[str, Any]) -> None:
        self.entries = list(entries)


@dataclass(frozen=True)
class Attempt:
    """One input's run, as a worker hands it back: its report entry, what the command made of it (None when
    it failed), the error line to show, and the error when the service refused the key."""

    entry: dict[str, Any]
    shown: Shown | None = None
    error: str | None = None
    refused: str | None = None


def attempt(path: Path, run_one: RunOne, batch: bool, shows: Events = NO_EVENTS) -> Attempt:
    """Run one input, recording its windows, stages and warnings (``shows`` sees its progress); prints
    nothing, so it runs on a cluster's worker as well as here."""
    recorder = Recorder()
    watcher = Fanout(shows, recorder)
    began = time.monotonic()
    shown, error, refused = None, None, None
    with WarningLog() as warnings:
        try:
            try:
                shown = run_one(path, watcher)
            finally:
                watcher.done()
            outcome = RunOutcome(path, _STATUS[shown.code], shown.code, 0.0, None, shown.outputs, shown.details)
        except DubberError as exc:
            error = str(exc) if not batch or str(path) in str(exc) else f"{path}: {exc}"
            outcome = RunOutcome(path, "failed", exit_code_of(exc), 0.0, str(exc))
            refused = str(exc) if isinstance(exc, AuthError) else None
        except KeyboardInterrupt:
            outcome = RunOutcome(path, "interrupted", INTERRUPTED, time.monotonic() - began, "interrupted")
            raise _Interrupted(run_entry(outcome, recorder)) from None
    outcome = replace(outcome, seconds=time.monotonic() - began, warnings=tuple(warnings.messages))
    return Attempt(run_entry(outcome, recorder), shown, error, refused)


def tell(tried: Attempt, ui: RunUI) -> None:
    """What an input's run said: its error line, or its files and notes and summary."""
    if tried.error is not None:
        click.echo(f"dubber: error: {tried.error}", err=True)
    elif tried.shown is not None:
        _tell(tried.shown, ui)


def _tell(shown: Shown, ui: RunUI) -> None:
    """The files written on stdout, one a line (for a script), then the notes and the summary."""
    for path in shown.outputs:
        click.echo(str(path))
    for note in shown.notes:
        click.echo(f"dubber: note: {note}", err=True)
    for line in shown.summary:
        ui.say(line)


def _finish(entries: list[dict[str, Any]], facts: RunFacts, ui: RunUI, started: datetime, clock: float,
            summary: bool) -> int:
    code = batch_code([e["exit_code"] for e in entries])
    if summary:
        done = sum(e["exit_code"] == OK for e in entries)
        ui.say(f"dubber: {len(entries)} inputs: {done} succeeded, {len(entries) - done} did not")
        for entry in entries:
            if entry["status"] != "ok":
                ui.say(f"dubber:   {entry['input']}: {entry['status'].replace('_', ' ')}")
    if ui.report is not None:
        write_report(ui.report, facts, entries, code, clock, started)
    return code


def write_report(path: Path, facts: RunFacts, entries: Sequence[dict[str, Any]], code: int, clock: float,
                 started: datetime | None = None) -> None:
    """The report of a command that began at ``clock`` (``time.monotonic``), written whole or not at all."""
    began = started or datetime.now(timezone.utc) - timedelta(seconds=time.monotonic() - clock)
    report = document(facts, entries, code, began, time.monotonic() - clock, version("dubber"))
    write_text_atomic(path, to_json(report))
