"""A content-addressed cache of window translations, so no window is ever paid for twice.

The key is a hash of the window's audio bytes and of the backend's ``cache_identity``: everything that
shapes the answer, decided by the backend that sends the request (the service's endpoint, the model, its
request-schema version, languages, voice, modalities), never the API key. An answer fetched from one
endpoint (the emulator, say) is therefore never served to a run against another (the real service). Each entry is one JSON file written to a temporary name
and renamed, carrying a checksum of its own content: a torn or damaged entry is detected, dropped and
fetched again. A run killed at any point keeps every window it had finished.

The cache is bounded (``DEFAULT_MAX_BYTES``, ``--cache-max``): a hit marks its entry as used (its mtime),
and each run, at its start and end, removes the least recently used entries until the folder fits, and
the ``.part`` files runs that were killed left behind (older than ``STALE_PART_S``).
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Mapping, Protocol

import platformdirs

from dubber.models import Segment, TranslationResult, Usage

log = logging.getLogger(__name__)

FORMAT = 1
DEFAULT_MAX_BYTES = 2 * 1024**3  # 2 GiB: about nine hours of dubbed speech, or thousands of hours of text
STALE_PART_S = 3600.0  # no live run takes this long to write one entry: an older .part is a killed run's


def default_dir() -> Path:
    return Path(platformdirs.user_cache_dir("dubber")) / "windows"


def cache_key(wav: bytes, identity: Mapping[str, object]) -> str:
    """sha256 over the audio and the backend's identity of the request (what shapes the answer)."""
    digest = hashlib.sha256(wav)
    digest.update(json.dumps(dict(identity), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _encode(result: TranslationResult) -> dict:
    return {"text": result.text, "audio_rate": result.audio_rate,
            "audio_pcm": base64.b64encode(result.audio_pcm).decode("ascii"),
            "usage": asdict(result.usage) if result.usage else None,
            "segments": [asdict(s) for s in result.segments], "language": result.language}


def _decode(body: dict) -> TranslationResult:
    return TranslationResult(text=body["text"], audio_pcm=base64.b64decode(body["audio_pcm"], validate=True),
                             audio_rate=int(body["audio_rate"]), usage=Usage(**body["usage"]) if body["usage"] else None,
                             segments=tuple(Segment(**s) for s in body["segments"]), language=body.get("language"))


def _checksum(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def entry_bytes(result: TranslationResult) -> bytes:
    """An answer as a cache entry: JSON carrying a checksum of its own content."""
    body = _encode(result)
    return json.dumps({"format": FORMAT, "sha256": _checksum(body), "body": body}).encode()


def read_entry(raw: bytes) -> TranslationResult:
    """The answer a cache entry holds; ValueError when it is torn or damaged."""
    try:
        entry = json.loads(raw)
        if (not isinstance(entry, dict) or entry.get("format") != FORMAT
                or entry.get("sha256") != _checksum(entry["body"])):
            raise ValueError("checksum mismatch")
        return _decode(entry["body"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(str(exc)) from exc


class Store(Protocol):
    """Where answers are kept (``WindowCache`` on disk; ``dubber.engine.store`` anywhere fsspec reaches)."""

    def get(self, key: str) -> TranslationResult | None: ...
    def put(self, key: str, result: TranslationResult) -> None: ...
    def tidy(self) -> None: ...


class WindowCache:
    """Translations on disk under ``folder``, two hex levels deep to keep folders small.

    The cache never fails a run: an entry it cannot read is a miss, one it cannot write is skipped, and
    either is said once per run rather than once per window.
    """

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._warned: set[str] = set()

    def tidy(self) -> None:
        """Remove stale ``.part`` files and the least recently used entries over the size cap."""
        try:
            removed, parts = prune(self.folder, self.max_bytes)
        except OSError as exc:
            self._warn_once("tidy", exc)
            return
        if removed or parts:
            log.info("window cache: removed %d least recently used entries and %d stale partial files",
                     removed, parts)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def _warn_once(self, what: str, exc: OSError) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning("cannot %s the window cache in %s (%s); going on without it", what, self.folder,
                        exc.strerror or exc)

    def get(self, key: str) -> TranslationResult | None:
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:  # e.g. --cache-dir names a file, or a folder we may not read
            self._warn_once("read", exc)
            return None
        try:
            result = read_entry(raw)
        except ValueError as exc:
            log.warning("dropping a damaged cache entry %s (%s)", path.name, exc)
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to be evicted
        return result

    def put(self, key: str, result: TranslationResult) -> None:
        entry = entry_bytes(result)
        path = self._path(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}.", suffix=".part", dir=path.parent)
            with os.fdopen(fd, "wb") as out:
                out.write(entry)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:  # a cache that cannot be written costs money later, not this run
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            self._warn_once("write", exc)


def human_size(count: int) -> str:
    """``count`` bytes for a reader (powers of 1024).

    >>> human_size(2147483648), human_size(1536), human_size(12)
    ('2.0 GiB', '1.5 KiB', '12 B')
    """
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


@dataclass(frozen=True)
class CacheStats:
    """What a cache folder holds."""

    folder: Path
    entries: int
    bytes: int
    stale_parts: int
    oldest: float | None  # mtime (last use) of the least recently used entry
    newest: float | None


def _walk(folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """The entries and partial files of a cache folder (two hex levels deep), with their stat."""
    if not folder.is_dir():
        return
    for sub in folder.iterdir():
        if not (sub.is_dir() and len(sub.name) == 2):
            continue
        for path in sub.iterdir():
            if path.suffix in (".json", ".part"):
                with contextlib.suppress(FileNotFoundError):  # another run may remove it meanwhile
                    yield path, path.stat()


def stats(folder: Path, now: float | None = None) -> CacheStats:
    now = time.time() if now is None else now
    entries = [(p, st) for p, st in _walk(folder) if p.suffix == ".json"]
    stale = sum(1 for p, st in _walk(folder) if p.suffix == ".part" and now - st.st_mtime > STALE_PART_S)
    times = [st.st_mtime for _, st in entries]
    return CacheStats(folder, len(entries), sum(st.st_size for _, st in entries), stale,
                      min(times, default=None), max(times, default=None))


def prune(folder: Path, max_bytes: int, now: float | None = None) -> tuple[int, int]:
    """Remove stale partial files, then the least recently used entries until the rest fits in
    ``max_bytes``; returns (entries removed, partial files removed)."""
    now = time.time() if now is None else now
    files = list(_walk(folder))
    parts = [p for p, st in files if p.suffix == ".part" and now - st.st_mtime > STALE_PART_S]
    entries = sorted(((st.st_mtime, st.st_size, p) for p, st in files if p.suffix == ".json"), reverse=True)
    kept, evicted = 0, []
    for _, size, path in entries:  # newest first: keep while they fit
        if kept + size <= max_bytes:
            kept += size
        else:
            evicted.append(path)
    for path in parts + evicted:
        path.unlink(missing_ok=True)
    return len(evicted), len(parts)


def clear(folder: Path) -> int:
    """Remove every entry and partial file; returns how many files went."""
    removed = 0
    for path, _ in list(_walk(folder)):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
