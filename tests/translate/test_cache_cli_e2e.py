"""The window cache as a user meets it: bounded by --cache-max, tidied by each run, shown and emptied by
`dubber cache info` and `dubber cache clear`."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.mediagen import compose, write_media

SENTENCES = ["en01", "en02", "en03", "de01"]  # 2.5 s apart: a window each


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    return write_media(compose([(2.5, s) for s in SENTENCES], tail_s=1.0).pcm,
                       tmp_path_factory.mktemp("media") / "talk.wav")


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json"))


def test_cache_is_bounded_tidied_shown_and_cleared(talk, tmp_path, run_dubber):
    cache, out = tmp_path / "cache", tmp_path / "out"
    common = ["--cache-dir", cache, "--out-dir", out]
    assert run_dubber("dub", talk, "--to", "fr", "-o", out / "talk.fr.wav", "--cache-dir", cache).code == 0
    entries = _entries(cache)
    assert len(entries) == len(SENTENCES)
    total = sum(p.stat().st_size for p in entries)

    info = run_dubber("cache", "info", "--cache-dir", cache)
    assert info.code == 0 and f"location: {cache}" in info.stdout
    assert re.search(rf"entries: {len(SENTENCES)} \(\d", info.stdout), info.stdout

    # A killed run's partial file, hours old, and a cap that holds about half the entries.
    stale = entries[0].parent / ".deadbeef.killed.part"
    stale.write_text("{half an entry")
    os.utime(stale, (1_000_000, 1_000_000))
    cap = total // 2
    result = run_dubber("subtitles", talk, "--to", "de", *common, "--cache-max", str(cap))
    assert result.code == 0, result.stderr
    assert not stale.exists()
    assert 0 < sum(p.stat().st_size for p in _entries(cache)) <= cap

    cleared = run_dubber("cache", "clear", "--cache-dir", cache)
    assert cleared.code == 0 and _entries(cache) == []


def test_a_bad_cache_max_is_one_line(talk, tmp_path, run_dubber):
    result = run_dubber("subtitles", talk, "--to", "de", "--out-dir", tmp_path, "--cache-max", "lots")
    assert result.code == 2
    assert result.stderr.strip() == "dubber: error: --cache-max takes a size such as 2G or 500M, not 'lots'"
