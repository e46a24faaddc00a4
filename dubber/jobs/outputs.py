"""Where outputs go, and writing them so that a failed run never leaves a half-written file."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from dubber.errors import OutputError


def output_path(input_path: Path, out_dir: Path | None, lang_code: str, suffix: str) -> Path:
    """``<stem>.<lang>.<suffix>`` next to the input, or in ``out_dir``."""
    folder = out_dir if out_dir is not None else input_path.parent
    return folder / f"{input_path.stem}.{lang_code}.{suffix}"


def prepare_dir(folder: Path) -> None:
    """Create ``folder`` if needed and make sure files can be written there, before anything is paid for."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, f"cannot create the output folder ({exc.strerror})") from exc
    if not folder.is_dir():
        raise OutputError(folder, "is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(folder, "output folder is not writable")


def guard_input(outputs: list[Path], input_path: Path) -> None:
    resolved = input_path.resolve()
    for path in outputs:
        if path.resolve() == resolved:
            raise OutputError(path, "output would overwrite the input")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to a temporary file beside ``path``, then rename it into place."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, f"cannot write ({exc.strerror})") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(path, f"cannot write ({exc.strerror})") from exc
    finally:  # whatever went wrong (a full disk, text no encoding holds, Ctrl-C), no .part is left behind
        Path(tmp).unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for a tool (ffmpeg) to write; renamed into place only when the block
    succeeds, and removed whatever happens."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, f"cannot write ({exc.strerror})") from exc
    os.close(fd)
    try:
        yield Path(tmp)
        try:
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except OSError as exc:
            raise OutputError(path, f"cannot write ({exc.strerror})") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
