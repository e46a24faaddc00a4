"""Every supported target language, end to end through the CLI and the emulator (whose answers are in each
language's own script): every line within its guide's length, no grapheme cluster split, and every word
the service returned in every subtitle format's file, in order. The gap between cues is two frames of the
input's own frame rate (the test video runs at 10 fps: 200 ms)."""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from dubber.emulator import DEFAULT_KEY
from dubber.languages import SUPPORTED
from dubber.subtitles.writers import WRITERS
from tests.support import cues as readers
from tests.support.mediagen import compose, write_media
from tests.support.rules import NO_SPACES, gap_ms, graphemes, reported_cues, rule_breaks, words

# Sentences after pauses of 0.3-1.5 s, and one long sentence (en05) to make long answers.
LAYOUT = [(0.5, "en01"), (0.3, "en02"), (1.5, "en05"), (0.6, "en04")]
VIDEO_FPS = 10  # write_media's test pattern


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> tuple[Path, int]:
    scene = compose(LAYOUT, tail_s=1.0)
    return write_media(scene.pcm, tmp_path_factory.mktemp("talk") / "talk.mp4"), scene.duration_ms


def _answers(emulator, since: int) -> list[str]:
    """The emulator's answer to each translation request since ``since``, replayed (it is deterministic)."""
    sent = emulator.captured[-(emulator.requests - since):]
    texts = []
    for request in (r for r in sent if r.path.endswith("/chat/completions")):
        replay = urllib.request.Request(emulator.base_url + "/chat/completions", data=request.body, method="POST",
                                        headers={"Content-Type": "application/json",
                                                 "Authorization": f"Bearer {DEFAULT_KEY}"})
        with urllib.request.urlopen(replay, timeout=30) as resp:
            events = [json.loads(line[6:]) for line in resp.read().split(b"\n") if line.startswith(b"data: {")]
        texts.append("".join(c["delta"].get("content") or "" for e in events for c in e["choices"]))
    return texts


def _split_graphemes(lines: list[str], said: str) -> list[str]:
    """Lines (in order) whose edges do not fall on a grapheme boundary of the answer (white space aside)."""
    original = "".join(said.split())
    bounds, at, bad = {0}, 0, []
    for g in graphemes(original):
        at += len(g)
        bounds.add(at)
    at = 0
    for line in lines:
        at += len("".join(line.split()))
        if at not in bounds:
            bad.append(line)
    return bad


@pytest.mark.parametrize("lang", sorted(SUPPORTED))
def test_every_language_keeps_its_rules_and_every_word(tmp_path: Path, talk, run_dubber, emulator, lang):
    media, duration_ms = talk
    since = emulator.requests
    result = run_dubber("subtitles", media, "--to", lang, "--format", ",".join(WRITERS), "--jobs", "1",
                        "--no-cache", "--out-dir", tmp_path)
    assert result.code == 0, result.stderr
    said = " ".join(_answers(emulator, since))
    assert len(words(said, lang)) > 10, said
    reported = reported_cues(result.stderr)
    for fmt in WRITERS:
        cues = getattr(readers, f"read_{fmt}")(tmp_path / f"talk.{lang}.{fmt}")
        assert rule_breaks(cues, lang, duration_ms + 50, fps=VIDEO_FPS, reported=reported) == [], fmt
        lines = [line for _, _, text in cues for line in text.split("\n")]
        assert _split_graphemes(lines, said) == [], fmt
        assert words(" ".join(lines), lang) == words(said, lang), fmt
        assert all(b[0] - a[1] >= gap_ms(VIDEO_FPS) for a, b in zip(cues, cues[1:])), fmt


def test_the_grapheme_check_can_fail():
    said = "น้ำที่บ้าน"
    assert _split_graphemes(["น้ำที่", "บ้าน"], said) == []
    assert _split_graphemes(["น้", "ำที่บ้าน"], said) == ["น้"]  # a naive cut after the tone mark
    assert "th" in NO_SPACES and words("ไป ทำ", "th") == graphemes("ไปทำ")
