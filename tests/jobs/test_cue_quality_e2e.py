"""Subtitle timing quality, end to end: cues start on the speech they belong to, keep out of long silences,
cover every sentence and obey every style rule, for several source and target languages, with and
without a music bed. "After a pause" means a pause of at least 0.5 s; shorter pauses (0.2 s) sit
inside a cue by design, since a viewer cannot follow cues that flash on and off between words."""
from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest

from tests.support.cues import covered_ms, read_srt
from tests.support.mediagen import compose, write_media
from tests.support.rules import reported_cues, rule_breaks

LAYOUT = [(0.7, "en01"), (0.2, "en02"), (0.6, "de01"), (1.0, "es01"), (3.0, "en03"), (0.5, "en06"),
          (1.5, "zh01"), (0.8, "en04"), (2.2, "en05"), (0.4, "es01")]
PAUSED = 500  # ms: a sentence after a pause this long should get a cue on its onset
LONG = 2000  # ms: a silence this long should stay (almost) free of cues


def _onset_errors(cues, scene) -> list[int]:
    errors = []
    for before, utt in zip(scene.speech, scene.speech[1:]):
        if utt.start_ms - before.end_ms >= PAUSED:
            errors.append(min(abs(c[0] - utt.start_ms) for c in cues))
    return errors


def _long_silence_cover(cues, scene, linger_ms=500) -> float:
    """Share of long silences under a cue, beyond the 0.5 s a cue may linger after speech."""
    total = shown = 0
    for before, after in zip(scene.speech, scene.speech[1:]):
        if after.start_ms - before.end_ms >= LONG:
            start, end = before.end_ms + linger_ms, after.start_ms
            total += end - start
            shown += covered_ms(cues, start, end)
    return shown / total


@pytest.mark.parametrize("target,music", [("en", None), ("zh", None), ("fr", -15)])
def test_cues_follow_the_speech(tmp_path: Path, run_dubber, target, music):
    scene = compose(LAYOUT, tail_s=1.0, music_db=music, seed=5)
    media = write_media(scene.pcm, tmp_path / "talk.mkv")
    result = run_dubber("subtitles", media, "--to", target, "--format", "srt")
    assert result.code == 0, result.stderr
    cues = read_srt(tmp_path / f"talk.{target}.srt")
    # the gap is two frames of the test video's 10 fps; cues kept whole against a rule are the ones reported
    assert rule_breaks(cues, target, scene.duration_ms + 50, fps=10, reported=reported_cues(result.stderr)) == []
    errors = _onset_errors(cues, scene)
    p90 = float(np.percentile(errors, 90))
    print(f"{target} music={music}: onset error median {statistics.median(errors)} ms, p90 {p90} ms, "
          f"long silence covered {_long_silence_cover(cues, scene):.1%}")
    assert len(errors) >= 6 and statistics.median(errors) <= 100 and p90 <= 250
    assert _long_silence_cover(cues, scene) <= 0.05
    for utt in scene.speech:
        assert covered_ms(cues, utt.start_ms, utt.end_ms) > 0.8 * (utt.end_ms - utt.start_ms), utt
