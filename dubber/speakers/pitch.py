"""Each speaker's pitch: the median F0 of their voiced speech, by Praat's pitch tracker (``parselmouth``,
the ``speakers`` extra). Voices are matched to it (``voices.assign_voices``)."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from dubber.models import Turn
from dubber.speakers.turns import dominant
from dubber.speech.frames import Samples

# Read at most this much of each speaker (their longest turns): a median settles within a minute of talk,
# and an hour's file is not read again.
MOST_MS = 60_000
FLOOR_HZ, CEILING_HZ = 60.0, 500.0  # the range of speaking voices, deep men to children
LEAST_FRAMES = 20  # voiced 10 ms frames below which a speaker's pitch is unknown


def speaker_pitch(pcm: Samples, rate: int, turns: Iterable[Turn], most_ms: int = MOST_MS) -> dict[int, float | None]:
    """Each speaker's median F0 in Hz over the turns where they alone speak (longest first, up to
    ``most_ms``); None where too little of it was voiced to tell."""
    import parselmouth  # the speakers extra: imported only when speakers are on

    by_speaker: dict[int, list[Turn]] = {}
    for turn in dominant(turns):
        by_speaker.setdefault(turn.speaker, []).append(turn)
    out: dict[int, float | None] = {}
    for speaker, own in sorted(by_speaker.items()):
        f0: list[np.ndarray] = []
        left = most_ms
        for turn in sorted(own, key=lambda t: -t.duration_ms):
            if left <= 0:
                break
            end_ms = turn.start_ms + min(turn.duration_ms, left)
            left -= end_ms - turn.start_ms
            samples = np.asarray(pcm[turn.start_ms * rate // 1000:end_ms * rate // 1000], dtype=np.float64) / 32768
            if len(samples) < rate // 10:  # shorter than Praat's analysis window at the floor
                continue
            pitch = parselmouth.Sound(samples, rate).to_pitch(time_step=0.01, pitch_floor=FLOOR_HZ,
                                                              pitch_ceiling=CEILING_HZ)
            frequency = pitch.selected_array["frequency"]
            f0.append(frequency[frequency > 0])
        voiced = np.concatenate(f0) if f0 else np.zeros(0)
        out[speaker] = round(float(np.median(voiced)), 1) if len(voiced) >= LEAST_FRAMES else None
    return out
