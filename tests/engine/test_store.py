"""The window cache on an fsspec store (here fsspec's own in-memory filesystem; the cluster tests use S3
served by moto): entries read back whole, damage dropped, URLs told from paths."""
from __future__ import annotations

import logging
import pickle
import uuid
from pathlib import Path

import fsspec
import pytest

from dubber.engine.store import StoreCache, local_path, open_store, url_protocol
from dubber.errors import OptionError
from dubber.models import Segment, TranslationResult, Usage
from dubber.translate.cache import cache_key

RESULT = TranslationResult(text="Bonjour.", audio_pcm=bytes(range(9)) * 5, usage=Usage(3, 4, 7),
                           segments=(Segment(0, 800, "Bonjour."),), language="en")


@pytest.fixture()
def url() -> str:
    return f"memory://dubber-tests/{uuid.uuid4().hex}/windows"


def test_an_answer_put_is_read_back_whole_by_another_copy_of_the_store(url):
    key = cache_key(b"window audio", {"model": "m"})
    writer = StoreCache(url)
    assert writer.get(key) is None
    writer.put(key, RESULT)
    reader = pickle.loads(pickle.dumps(writer))  # as a worker receives it: its own connection
    assert reader.get(key) == RESULT
    fs, root = fsspec.core.url_to_fs(url)
    assert fs.exists(f"{root}/{key[:2]}/{key}.json")


def test_a_damaged_entry_is_a_miss_said_and_removed(url, caplog):
    store = StoreCache(url)
    key = cache_key(b"other audio", {"model": "m"})
    store.put(key, RESULT)
    fs, root = fsspec.core.url_to_fs(url)
    path = f"{root}/{key[:2]}/{key}.json"
    fs.pipe_file(path, fs.cat_file(path).replace(b"Bonjour", b"Bonsoir"))
    with caplog.at_level(logging.WARNING, logger="dubber"):
        assert store.get(key) is None
    assert "damaged cache entry" in caplog.text and not fs.exists(path)


def test_urls_are_told_from_paths_and_file_urls_are_folders():
    assert [url_protocol(t) for t in ("s3://b/p", "GS://b", "memory://x", "/tmp/c", "C:\\cache", "rel/dir")] == \
        ["s3", "gs", "memory", None, None, None]
    assert local_path("file:///var/cache/dubber") == Path("/var/cache/dubber")
    assert local_path("s3://bucket/cache") is None


def test_a_store_fsspec_cannot_reach_is_refused_in_one_line():
    with pytest.raises(OptionError, match=r"^--cache-dir nope://x: Protocol not known: nope$"):
        open_store("nope://x")
    with pytest.raises(OptionError, match=r"^--cache-dir gs://bucket/cache: .*gcsfs"):
        open_store("gs://bucket/cache")
