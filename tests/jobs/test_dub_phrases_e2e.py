"""`dubber dub` on windows that hold several phrases: the dub follows the phrases. Generated speech at known
times (utterances 0.5-0.7 s apart, so each window holds two or three), the real CLI against the emulator,
the dub decoded: every utterance has dubbed speech over it, and each phrase's dub keeps to its own slot.

Before the split, each window's speech played as one clip from its first onset: with these layouts 1 of
5 utterances had no dub over it (under 40% voiced) and 3 later phrases began under the previous phrase's
speech; both checks below failed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import avprobe
from tests.support.mediagen import compose, write_media

TOLERANCE_MS = 30  # codec and resampler smear at part edges
GAP_MS = 100  # FitOptions.gap_ms: the breath before each part's onset
PAD_MS = 40  # a detected onset leads the utterance by the detector's pad (Hysteresis.pad_ms)
LEAD_MS = 60  # ... give or take a frame

LAYOUTS = {
    "wav": [(0.8, "en01"), (0.6, "en02"), (0.7, "en03"), (2.5, "en05"), (0.6, "en04")],
    "mkv": [(0.8, "en05"), (0.7, "en01"), (0.6, "en04"), (2.5, "en02"), (0.5, "en03")],
}
WINDOWS = [3, 2]  # utterances per window: the 2.5 s pause is the only window boundary


@pytest.mark.parametrize("kind", ["wav", "mkv"])
def test_every_phrase_is_dubbed_inside_its_own_slot(tmp_path: Path, run_dubber, kind):
    scene = compose(LAYOUTS[kind], tail_s=1.0, seed=3)
    media = write_media(scene.pcm, tmp_path / f"talk.{kind}")
    result = run_dubber("dub", media, "--to", "de", "--mix", "replace", "--max-window", "20", "--no-cache")
    assert result.code == 0, result.stderr
    outputs = [Path(line) for line in result.stdout.split()]
    report = json.loads(outputs[-1].read_text(encoding="utf-8"))
    streams = avprobe.streams(outputs[0])
    dub, rate = avprobe.decode_audio(outputs[0], next(s.index for s in streams if s.type == "audio"))
    voiced = avprobe.voiced_ms(dub, rate)

    # Against the ground truth first: every utterance has dub over it, and the dub is quiet in the breath
    # before each utterance starts (the previous phrase's part ended before this phrase's slot).
    for utt in scene.speech:
        inside = sum(1 for t in voiced if utt.start_ms <= t < utt.end_ms) * 10
        assert inside >= 0.4 * (utt.end_ms - utt.start_ms), f"{utt.name} at {utt.start_ms} ms is not dubbed"
        breath = (utt.start_ms - PAD_MS - GAP_MS + TOLERANCE_MS, utt.start_ms - PAD_MS - TOLERANCE_MS)
        spoken = [t for t in voiced if breath[0] < t + 10 and t < breath[1]]
        assert not spoken, f"the dub speaks over {utt.name}'s start at {spoken} ms"

    # The plan: one part per utterance, each anchored at its onset and ending before the next one's slot.
    assert [len(w["parts"]) for w in report["windows"]] == WINDOWS
    parts = [p for w in report["windows"] for p in w["parts"]]
    for part, utt in zip(parts, scene.speech):
        assert utt.start_ms - LEAD_MS <= part["onset_ms"] <= utt.start_ms, (part, utt)
        assert part["onset_ms"] == part["dub_start_ms"] < part["dub_end_ms"] <= part["slot_end_ms"]
        assert 1.0 <= part["speed"] <= 1.3
    for before, after in zip(parts, parts[1:]):
        assert before["slot_end_ms"] <= after["onset_ms"] - GAP_MS
    for w in report["windows"]:  # the window's own figures still describe its dub as a whole
        assert (w["dub_start_ms"], w["dub_end_ms"]) == (w["parts"][0]["dub_start_ms"], w["parts"][-1]["dub_end_ms"])
    # and the decoded dub sounds only inside the planned parts
    spans = [(p["dub_start_ms"], p["dub_end_ms"]) for p in parts]
    stray = [t for t in voiced if not any(a - TOLERANCE_MS <= t and t + 10 <= b + TOLERANCE_MS for a, b in spans)]
    assert not stray, f"dub sounds outside its parts at {stray[:5]} ms"
