"""The window cache: round trips, damage detection, atomic entries, and keys that ignore the API key."""
from __future__ import annotations

import json

from dubber.translate.cache import WindowCache, cache_key
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
