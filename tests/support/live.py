"""Reading a `dubber live` run as its audience would: how long after each utterance its caption was there."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from tests.support.mediagen import Placed


def caption_latencies(report: Path, speech: Sequence[Placed], appeared: Sequence[float],
                      speed: float = 1.0) -> list[float]:
    """For each utterance, from its end (on the wall clock: media time / ``speed``) to the moment the cues
    of the window holding its end were in the file: the run's report says which cues each window wrote,
    ``appeared`` when each cue was seen in the tailed VTT (s since the process started)."""
    windows = json.loads(report.read_text(encoding="utf-8"))["windows"]
    last_cue, count = {}, 0
    for w in windows:
        count += w["cues"]
        last_cue[w["index"]] = count - 1
    out = []
    for utt in speech:
        holding = next(w for w in windows if w["end_ms"] >= utt.end_ms - 100)
        out.append(appeared[last_cue[holding["index"]]] - utt.end_ms / 1000 / speed)
    return out
