"""The window cache anywhere fsspec reaches (``--cache-dir s3://bucket/prefix``, ``gs://``, ``memory://``), so
every worker of a cluster reuses every answer.

Entries are the local cache's (``translate.cache.entry_bytes``: JSON with its own checksum), one object
each under ``<prefix>/<2 hex>/<key>.json``, written in one PUT: an object store never shows a reader half
an entry, and a damaged one is dropped and fetched again. Like the local cache, it never fails a run: what
it cannot read is a miss, what it cannot write is skipped, each said once.

It is not pruned by dubber: listing a bucket to evict is slow and costly, and object stores expire old
objects themselves (an S3 lifecycle rule on the prefix; GCS's Object Lifecycle Management).
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from dubber.engine import require_extra
from dubber.errors import OptionError
from dubber.models import TranslationResult
from dubber.translate.cache import entry_bytes, read_entry

log = logging.getLogger(__name__)

_URL = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


def url_protocol(text: str) -> str | None:
    """The protocol of a URL (``s3``), or None for a plain path (``C:\\cache`` included).

    >>> url_protocol("s3://bucket/cache"), url_protocol("/tmp/cache"), url_protocol("C:\\\\cache")
    ('s3', None, None)
    """
    match = _URL.match(text)
    return match.group(1).lower() if match and len(match.group(1)) > 1 else None


def local_path(url: str) -> Path | None:
    """The folder a ``file://`` URL names (the local cache serves it), else None."""
    if url_protocol(url) in ("file", "local"):
        return Path(_URL.sub("", url, count=1) or "/")
    return None


def folder_or_url(text: str | None) -> Path | str | None:
    """``--cache-dir`` or ``--out-dir`` as given: a folder (``file://`` URLs too), or a URL fsspec reaches.

    >>> [str(folder_or_url(t)) for t in ("media/subs", "file:///tmp/subs", "s3://bucket/subs/")]
    ['media/subs', '/tmp/subs', 's3://bucket/subs']
    """
    if text is None or url_protocol(text) is None:
        return Path(text) if text is not None else None
    return local_path(text) or text.rstrip("/")


class StoreCache:
    """``translate.fetch.Store`` on an fsspec filesystem; picklable (a worker opens its own connection)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._fs: Any = None
        self._root = ""
        self._warned: set[str] = set()

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])

    def _open(self) -> tuple[Any, str]:
        if self._fs is None:
            import fsspec

            self._fs, self._root = fsspec.core.url_to_fs(self.url)
        return self._fs, self._root

    def _locate(self, key: str) -> tuple[Any, str]:
        """The store, and where entry ``key`` lives in it."""
        fs, root = self._open()
        return fs, f"{root}/{key[:2]}/{key}.json"

    def _warn_once(self, what: str, exc: Exception) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning("cannot %s the window cache at %s (%s); going on without it", what, self.url,
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    def get(self, key: str) -> TranslationResult | None:
        fs, path = self._locate(key)
        try:
            raw = fs.cat_file(path)
        except FileNotFoundError:
            return None
        except Exception as exc:  # credentials, network, permissions: the store's own exceptions, all a miss
            self._warn_once("read", exc)
            return None
        try:
            return read_entry(raw)
        except ValueError as exc:
            log.warning("dropping a damaged cache entry %s (%s)", path.rsplit("/", 1)[-1], exc)
            try:
                fs.rm_file(path)
            except Exception:  # another worker may have replaced or removed it: a miss either way
                pass
            return None

    def put(self, key: str, result: TranslationResult) -> None:
        fs, path = self._locate(key)
        try:
            fs.pipe_file(path, entry_bytes(result))
        except Exception as exc:  # a cache that cannot be written costs money later, not this run
            self._warn_once("write", exc)

    def tidy(self) -> None:
        """Nothing: the store's own lifecycle rules expire old entries (see the module)."""


def open_store(url: str) -> StoreCache:
    """The cache at ``url``, refused as one line when fsspec cannot reach that kind of store."""
    require_extra(f"--cache-dir {url}")
    import fsspec

    protocol = url_protocol(url)
    try:
        fsspec.get_filesystem_class(protocol)
    except (ValueError, ImportError) as exc:  # an unknown protocol, or its package (s3fs, gcsfs) missing
        raise OptionError(f"--cache-dir {url}: {str(exc).splitlines()[0]}") from exc
    return StoreCache(url)
