"""A run's files on object storage (``--out-dir s3://bucket/prefix``): written whole on this machine first
(the job's own ``OutputSet``), then published as one set.

An object store renames nothing and has no transaction over several objects; what it does promise is that
each PUT or copy replaces an object whole. So every file goes first under a temporary name beside its
final one, and only once all are uploaded is each copied over its final name: a run that fails while
uploading leaves the previous set untouched, and the copies, server-side, take a moment.
"""
from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Sequence

from dubber.engine import require_extra
from dubber.engine.store import url_protocol
from dubber.errors import OutputError


def publish(files: Sequence[Path], url: str) -> tuple[str, ...]:
    """Upload ``files`` (one input's whole set) into ``url``; returns their URLs there."""
    require_extra(f"--out-dir {url}")
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
    except (ValueError, ImportError) as exc:
        raise OutputError(url, str(exc).splitlines()[0]) from exc
    token = uuid.uuid4().hex[:8]
    finals = [f"{root}/{path.name}" for path in files]
    parts: list[str] = []
    try:
        for path in files:
            parts.append(f"{root}/.{path.name}.{token}.part")
            fs.put_file(str(path), parts[-1])
        for part, final in zip(parts, finals):
            fs.copy(part, final)
    except Exception as exc:  # the store's own errors (credentials, network, a missing bucket)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OutputError(url, f"cannot upload the files ({reason})") from exc
    finally:
        for part in parts:
            with contextlib.suppress(Exception):
                fs.rm_file(part)
    return tuple(f"{url_protocol(url)}://{final}" for final in finals)
