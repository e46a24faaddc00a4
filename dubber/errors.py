"""The exception tree. The core raises these; only the CLI prints them.

    DubberError                  base: str(err) is one line fit for a user
    ├── InputError               the input file is missing, unreadable, not media, or has no audio
    ├── OptionError              an option value is wrong (unknown language, format, ...)
    ├── ToolError                ffmpeg/ffprobe is missing or failed on media it had accepted
    │   └── UnfitToolError       no ffmpeg at hand can do what the run needs: refused before anything is sent
    ├── OutputError              an output cannot be written
    ├── EmulatorError            the emulator cannot serve (its port is taken, its host unknown)
    ├── EngineError              the cluster cannot be reached, or lost a task for good
    └── BackendError             the translation service failed for a window
        ├── AuthError            401/403: the key is missing, wrong, or for another region
        ├── RequestError         400/404: the service rejected the request; retrying will not help
        └── TransientError       429, 5xx, time-outs, broken streams: worth retrying

Lower-level exceptions are mapped at the boundary with ``raise ... from exc``.
Messages never contain the API key.
"""
from __future__ import annotations

from pathlib import Path


class DubberError(Exception):
    """Base of every error dubber reports to a user."""


class InputError(DubberError):
    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class OptionError(DubberError):
    pass


class ToolError(DubberError):
    pass


class UnfitToolError(ToolError):
    """The ffmpeg dubber would run lacks what the job needs (too old, a missing encoder, a graph it cannot
    run): a usage error, exit 2, raised before any request."""


class OutputError(DubberError):
    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class EmulatorError(DubberError):
    pass


class EngineError(DubberError):
    pass


class BackendError(DubberError):
    def __init__(self, message: str, *, status: int | None = None, window: int | None = None,
                 retry_after: float | None = None) -> None:
        where = f"window {window}: " if window is not None else ""
        super().__init__(f"{where}{message}")
        self.message = message
        self.status = status
        self.window = window
        self.retry_after = retry_after  # seconds the service asked us to wait, when it did


class AuthError(BackendError):
    pass


class RequestError(BackendError):
    pass


class TransientError(BackendError):
    pass
