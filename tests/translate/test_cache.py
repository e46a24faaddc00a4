"""The window cache: round trips, damage detection, atomic entries, and keys that ignore the API key."""
from __future__ import annotations

import json
import os
from pathlib import Path

from dubber.translate.cache import STALE_PART_S, WindowCache, cache_key, clear, prune, stats
from dubber.models import Segment, TranslationResult, Usage

RESULT = TranslationResult(text="Bonjour.", audio_pcm=bytes(range(7)) * 3, usage=Usage(1, 2, 3),
                           segments=(Segment(0, 10, "x"),))


def test_round_trip(tmp_path):
    cache = WindowCache(tmp_path)
    key = cache_key(b"RIFF...", {"model": "m", "target": "fr"})
    assert cache.get(key) is None
    cache.put(key, RESULT)
    assert cache.get(key) == RESULT
    assert not list(tmp_path.rglob("*.part"))


def test_key_follows_audio_and_settings_only():
    assert cache_key(b"a", {"model": "m", "target": "fr"}) == cache_key(b"a", {"target": "fr", "model": "m"})
    assert cache_key(b"a", {"model": "m", "target": "fr"}) != cache_key(b"b", {"model": "m", "target": "fr"})
    assert cache_key(b"a", {"model": "m", "target": "fr"}) != cache_key(b"a", {"model": "m", "target": "de"})
    assert cache_key(b"a", {"endpoint": "http://a/v1"}) != cache_key(b"a", {"endpoint": "http://b/v1"})


def test_damaged_entries_are_dropped(tmp_path):
    cache = WindowCache(tmp_path)
    for i, damage in enumerate([lambda t: t[: len(t) // 2], lambda t: t.replace("Bonjour", "Bonsoir"), lambda t: "{}"]):
        key = cache_key(bytes([i]), {})
        cache.put(key, RESULT)
        path = next(tmp_path.rglob(f"{key}.json"))
        path.write_text(damage(path.read_text()))
        assert cache.get(key) is None
        assert not path.exists()


def test_entries_are_plain_json_with_a_checksum(tmp_path):
    cache = WindowCache(tmp_path)
    key = cache_key(b"x", {})
    cache.put(key, RESULT)
    entry = json.loads(next(tmp_path.rglob("*.json")).read_text())
    assert set(entry) == {"format", "sha256", "body"} and entry["body"]["text"] == "Bonjour."


def _entry(cache: WindowCache, name: bytes, used_at: float) -> Path:
    key = cache_key(name, {})
    cache.put(key, RESULT)
    path = next(cache.folder.rglob(f"{key}.json"))
    os.utime(path, (used_at, used_at))
    return path


def test_prune_keeps_the_most_recently_used_entries_that_fit(tmp_path):
    cache = WindowCache(tmp_path)
    paths = [_entry(cache, bytes([i]), used_at=1000.0 + i) for i in range(6)]
    size = paths[0].stat().st_size
    removed, parts = prune(tmp_path, max_bytes=3 * size + size // 2, now=5000.0)
    assert (removed, parts) == (3, 0)
    assert [p.exists() for p in paths] == [False, False, False, True, True, True]
    assert stats(tmp_path).bytes <= 3 * size + size // 2


def test_a_hit_marks_its_entry_used_so_it_is_evicted_last(tmp_path):
    cache = WindowCache(tmp_path)
    old, newer = _entry(cache, b"old", 1000.0), _entry(cache, b"newer", 2000.0)
    assert cache.get(cache_key(b"old", {})) == RESULT  # now the most recent
    prune(tmp_path, max_bytes=old.stat().st_size)
    assert old.exists() and not newer.exists()


def test_stale_partial_files_go_fresh_ones_stay(tmp_path):
    (tmp_path / "ab").mkdir()
    stale, fresh = tmp_path / "ab" / ".abcd1234.x.part", tmp_path / "ab" / ".abcd1234.y.part"
    for part in (stale, fresh):
        part.write_text("{half")
    os.utime(stale, (1000.0, 1000.0))
    os.utime(fresh, (1000.0 + STALE_PART_S - 60, 1000.0 + STALE_PART_S - 60))  # another run writing it now
    assert stats(tmp_path, now=1000.0 + STALE_PART_S + 1).stale_parts == 1
    assert prune(tmp_path, max_bytes=10**9, now=1000.0 + STALE_PART_S + 1) == (0, 1)
    assert not stale.exists() and fresh.exists()


def test_clear_removes_everything_and_stats_count_it(tmp_path):
    cache = WindowCache(tmp_path)
    for i in range(3):
        _entry(cache, bytes([i]), used_at=1000.0 + i)
    found = stats(tmp_path)
    assert found.entries == 3 and found.bytes > 0 and found.oldest == 1000.0 and found.newest == 1002.0
    assert clear(tmp_path) == 3 and stats(tmp_path).entries == 0
