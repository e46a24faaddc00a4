"""Several target languages in one run: the windows are planned once and sent once per language, and
each language gets its own files (a dub in several languages: test_dub_languages_e2e.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.cues import read_srt, read_vtt
from tests.support.mediagen import compose, write_media

SENTENCES = ["en01", "en02", "de01"]  # 2.5 s apart: a window each


def test_subtitles_in_two_languages_from_one_plan(tmp_path: Path, run_dubber, emulator):
    talk = write_media(compose([(2.5, s) for s in SENTENCES], tail_s=1.0).pcm, tmp_path / "talk.wav")
    out = tmp_path / "out"
    sent = emulator.requests
    result = run_dubber("subtitles", talk, "--to", "en,fr", "--out-dir", out, "--no-cache")
    assert result.code == 0, result.stderr
    assert result.stdout.split() == [str(out / f"talk.{lang}.{fmt}") for lang in ("en", "fr") for fmt in ("srt", "vtt")]
    assert emulator.requests - sent == 2 * len(SENTENCES)
    targets = [json.loads(c.body)["translation_options"]["target_lang"] for c in emulator.captured[-6:]]
    assert sorted(targets) == ["en"] * 3 + ["fr"] * 3
    en, fr = read_srt(out / "talk.en.srt"), read_srt(out / "talk.fr.srt")
    assert en and fr and [t for *_, t in en] != [t for *_, t in fr]  # each its own translation
    assert read_vtt(out / "talk.fr.vtt") and [c[:2] for c in fr] == [c[:2] for c in read_vtt(out / "talk.fr.vtt")]
    counts = re.search(r"(\d+) cues \(en (\d+), fr (\d+)\)", result.stderr)
    assert counts and int(counts.group(1)) == len(en) + len(fr), result.stderr

