"""No word lost, end to end: a translation far longer than its speech is kept whole in the subtitles,
the cues too fast to read are named in one warning line and in the dub's JSON report; cutting with "…"
happens only with --cut-overlong."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dubber.emulator import Emulator
from tests.support.cues import read_srt
from tests.support.mediagen import compose, write_media
from tests.support.rules import max_cps, reported_cues, rule_breaks, width, words

# Two sentences of speech after pauses; every window is answered with this, far more than it can carry.
ANSWER = ("Nous avons marché le long de la rivière pendant des heures, puis nous avons déjeuné près du vieux "
          "pont de pierre avant de rentrer à la maison.")


@pytest.fixture(scope="module")
def wordy(tmp_path_factory):
    with Emulator(answer_text=ANSWER) as emu:
        yield emu


def _dub(tmp_path: Path, dubber_env, emu, *args: str):
    audio = write_media(compose([(0.5, "en01"), (1.2, "en04")], tail_s=0.5).pcm, tmp_path / "talk.wav")
    result = subprocess.run([sys.executable, "-m", "dubber", "dub", str(audio), "--to", "fr", "--mix", "replace",
                             "--no-cache", *args], env={**dubber_env, "DUBBER_BASE_URL": emu.base_url},
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "talk.fr.dub.json").read_text(encoding="utf-8"))
    return result, read_srt(tmp_path / "talk.fr.srt"), report


def test_every_word_is_kept_and_the_fast_cues_reported(tmp_path: Path, dubber_env, wordy):
    result, cues, report = _dub(tmp_path, dubber_env, wordy)
    windows = [w for w in report["windows"] if w["text"]]
    assert len(windows) == 2
    shown = words(" ".join(text for _, _, text in cues), "fr")
    assert shown == words(ANSWER, "fr") * len(windows) and "…" not in " ".join(shown)
    overlong = report["overlong_cues"]
    assert overlong, "the answer fits: the test lost its point"
    for entry in overlong:
        start, end, text = cues[entry["cue"] - 1]
        assert entry["limit"] == max_cps("fr") == 17
        assert abs(entry["cps"] - width(text.replace("\n", " ")) / ((end - start) / 1000)) < 0.06
        assert entry["cps"] > 17
    fast = {e["cue"] for e in overlong if e["cps"] > e["limit"]}
    assert reported_cues(result.stderr) >= fast
    warnings = [line for line in result.stderr.splitlines() if "faster than" in line]
    assert warnings == [f"dubber: {len(fast)} cue{'s' if len(fast) > 1 else ''} read{'' if len(fast) > 1 else 's'} "
                        f"faster than the French limit of 17 characters a second: "
                        + ", ".join(f"{e['cue']} ({e['cps']:g})" for e in overlong if e["cue"] in fast)]
    assert rule_breaks(cues, "fr", report["duration_ms"], reported={e["cue"] for e in overlong}) == []
    assert rule_breaks(cues, "fr", report["duration_ms"]) != []  # without the report, the cues break the rules


def test_cut_overlong_cuts_with_an_ellipsis_and_reports_nothing(tmp_path: Path, dubber_env, wordy):
    result, cues, report = _dub(tmp_path, dubber_env, wordy, "--cut-overlong")
    assert report["overlong_cues"] == [] and "faster than" not in result.stderr
    assert any(text.endswith("…") for _, _, text in cues)
    assert rule_breaks(cues, "fr", report["duration_ms"]) == []
