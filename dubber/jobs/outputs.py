"""Where outputs go, and writing them as a set: a failed run never leaves a half-written file, nor new
files beside old ones."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

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


def guard_input(outputs: list[Path], *inputs: Path) -> None:
    """Refuse, before anything is paid for, outputs that would replace an input or a folder."""
    resolved = {path.resolve() for path in inputs}
    for path in outputs:
        if path.resolve() in resolved:
            raise OutputError(path, "output would overwrite the input")
        if path.is_dir():
            raise OutputError(path, "is a folder: cannot write the output there")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (POSIX; where a folder cannot be opened, nothing to do)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class OutputSet:
    """A run's files, written under temporary names beside their final ones and put in place together.

    Every file is written to a ``.part`` beside its final name (``write_text``, or ``part`` for a tool such
    as ffmpeg to write). ``commit`` fsyncs them, then renames each into place, keeping a hard-linked backup
    of the file it replaces; if any rename fails, every file already replaced is restored from its backup.
    Leaving the block without ``commit`` (an error, Ctrl-C) removes every part: the previous set of files
    stays as it was, whole. A final name that cannot be replaced (a folder) is refused before any rename.
    """

    def __init__(self, _rename=os.replace) -> None:
        self._parts: dict[Path, Path] = {}  # final -> part
        self._rename = _rename  # the one step a test may make fail, to check the rollback

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, *exc: object) -> None:
        for part in self._parts.values():
            part.unlink(missing_ok=True)

    def part(self, path: Path) -> Path:
        """A new temporary path beside ``path``, to be renamed to it at ``commit``."""
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        except OSError as exc:
            raise OutputError(path, f"cannot write ({exc.strerror})") from exc
        os.close(fd)
        self._parts[path] = Path(tmp)
        return Path(tmp)

    def write_text(self, path: Path, text: str) -> None:
        """``text`` as UTF-8 with Unix line ends, to become ``path`` at ``commit``."""
        part = self.part(path)
        try:
            with open(part, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except OSError as exc:
            raise OutputError(path, f"cannot write ({exc.strerror})") from exc

    def commit(self) -> None:
        """Put every file in place, or none (see the class)."""
        for final in self._parts:
            if final.is_dir():
                raise OutputError(final, "is a folder: cannot write the output there")
        try:
            for final, part in self._parts.items():
                os.chmod(part, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
                _fsync_file(part)
        except OSError as exc:
            raise OutputError(final, f"cannot write ({exc.strerror})") from exc
        backups = self._swap_in()
        for backup in backups.values():
            backup.unlink(missing_ok=True)
        for folder in {final.parent for final in self._parts}:
            _fsync_dir(folder)
        self._parts.clear()

    def _swap_in(self) -> dict[Path, Path]:
        """Rename every part into place; on a failure, restore what was replaced and raise."""
        backups: dict[Path, Path] = {}
        done: list[Path] = []
        final = None
        try:
            for final, part in self._parts.items():
                if final.exists():
                    backups[final] = final.with_name(f".{final.name}.{os.getpid()}.old")
                    backups[final].unlink(missing_ok=True)
                    os.link(final, backups[final])
                self._rename(part, final)
                done.append(final)
        except OSError as exc:
            for replaced in reversed(done):
                if replaced in backups:
                    os.replace(backups.pop(replaced), replaced)
                else:
                    replaced.unlink(missing_ok=True)
            for backup in backups.values():
                backup.unlink(missing_ok=True)
            raise OutputError(final, f"cannot write ({exc.strerror}); the previous files were kept") from exc
        return backups


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to a temporary file beside ``path``, then rename it into place (a set of one)."""
    with OutputSet() as outputs:
        outputs.write_text(path, text)
        outputs.commit()
