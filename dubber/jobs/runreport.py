"""The run report (``--report PATH``): what a command did, as JSON a CI job can read. Its schema is
``docs/report.schema.json`` (``SCHEMA_VERSION``); the README describes it.

One document per command line, with one entry in ``runs`` per input (a batch has several). Each run
lists its windows as the fetcher recorded them (times, task, language, status, attempts, seconds, cache,
tokens), its stages with their times, the warnings it logged, and what the command made of it
(``details``: cues per language, a dub's summary per language). Token totals count the usage the
service reported for the requests this run sent; answers read from the cache are counted apart.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

from dubber.events import Events, WindowRecord
from dubber.models import Usage

SCHEMA = "dubber-report"
SCHEMA_VERSION = 1
STATUSES = ("ok", "no_speech", "failed", "interrupted", "not_run")


class Recorder(Events):
    """Keeps what a report needs while a run goes: each window's record and each stage's time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.windows: list[WindowRecord] = []
        self.stages: list[dict[str, Any]] = []
        self._open: tuple[str, str, float] | None = None

    def stage(self, name: str, total: float | None = None, unit: str = "", detail: str = "") -> None:
        self.done()
        self._open = (name, detail, self.clock())

    def window(self, record: WindowRecord) -> None:
        self.windows.append(record)

    def done(self) -> None:
        if self._open is not None:
            name, detail, started = self._open
            self.stages.append({"name": name, "detail": detail, "seconds": round(self.clock() - started, 3)})
            self._open = None


class Fanout(Events):
    """Passes every event to each of ``watchers`` in turn."""

    def __init__(self, *watchers: Events) -> None:
        self.watchers = watchers

    def stage(self, name: str, total: float | None = None, unit: str = "", detail: str = "") -> None:
        for w in self.watchers:
            w.stage(name, total, unit, detail)

    def advance(self, amount: float = 1.0) -> None:
        for w in self.watchers:
            w.advance(amount)

    def window(self, record: WindowRecord) -> None:
        for w in self.watchers:
            w.window(record)

    def done(self) -> None:
        for w in self.watchers:
            w.done()


class WarningLog(logging.Handler):
    """Collects the warnings dubber logs while it is attached (from any thread)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> "WarningLog":
        logging.getLogger("dubber").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("dubber").removeHandler(self)


def _tokens(usages: Iterable[Usage | None]) -> dict[str, int]:
    found = [u for u in usages if u is not None]
    return {"prompt": sum(u.prompt_tokens for u in found), "completion": sum(u.completion_tokens for u in found),
            "total": sum(u.total_tokens for u in found)}


def window_entry(record: WindowRecord) -> dict[str, Any]:
    entry = {"index": record.index, "start_ms": record.start_ms, "end_ms": record.end_ms, "task": record.task,
             "language": record.language, "status": record.status, "cached": record.cached,
             "attempts": record.attempts, "seconds": record.seconds,
             "tokens": _tokens([record.usage]) if record.usage is not None else None}
    if record.error:
        entry["error"] = record.error
    return entry


@dataclass(frozen=True)
class RunOutcome:
    """One input's run as the command line saw it."""

    input: Path
    status: str  # one of STATUSES
    exit_code: int
    seconds: float
    error: str | None = None
    outputs: tuple[Path, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)  # the command's own facts (cues, dub summary)
    warnings: tuple[str, ...] = ()


def run_entry(outcome: RunOutcome, recorder: Recorder | None) -> dict[str, Any]:
    windows = recorder.windows if recorder else []
    sent = [w for w in windows if not w.cached and w.status == "ok"]
    return {
        "input": str(outcome.input), "status": outcome.status, "exit_code": outcome.exit_code,
        "error": outcome.error, "seconds": round(outcome.seconds, 3), "outputs": [str(p) for p in outcome.outputs],
        "requests": {"windows": len(windows), "sent": sum(w.attempts for w in windows),
                     "cached": sum(w.cached for w in windows), "retried": sum(w.attempts > 1 for w in windows),
                     "failed": sum(w.status == "failed" for w in windows)},
        "tokens": _tokens(w.usage for w in sent),
        "cached_tokens": _tokens(w.usage for w in windows if w.cached),
        "stages": list(recorder.stages) if recorder else [],
        "warnings": list(outcome.warnings),
        "details": outcome.details,
        "windows": [window_entry(w) for w in windows],
    }


def public_endpoint(url: str) -> str:
    """``url`` without what must not be written down: a user and password, a query (which may hold a key).

    >>> public_endpoint("https://user:secret@example.com:8443/v1?key=abc")
    'https://example.com:8443/v1'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class RunFacts:
    """What the whole command line was: the command, its service, its languages."""

    command: str
    backend: str | None = None
    model: str | None = None
    endpoint: str | None = None
    languages: tuple[str, ...] = ()
    jobs: int | None = None
    engine: dict[str, Any] | None = None  # a cluster run's: where it ran, and what its account's books say


def document(facts: RunFacts, runs: Sequence[dict[str, Any]], exit_code: int, started: datetime,
             seconds: float, version: str) -> dict[str, Any]:
    """The whole report; ``runs`` are ``run_entry`` dicts."""
    return {
        "schema": SCHEMA, "version": SCHEMA_VERSION, "dubber": version, "command": facts.command,
        "started_at": started.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(seconds, 3), "exit_code": exit_code,
        "backend": {"name": facts.backend, "model": facts.model,
                    "endpoint": public_endpoint(facts.endpoint) if facts.endpoint else None},
        "languages": list(facts.languages), "jobs": facts.jobs,
        "tokens": {k: sum(r["tokens"][k] for r in runs) for k in ("prompt", "completion", "total")},
        **({"engine": facts.engine} if facts.engine is not None else {}),
        "runs": list(runs),
    }


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
