"""`dubber dub --mix replace` on a plain talk with pauses: every utterance carries dubbed speech, with every
speaking backend. Generated speech at known times (eight utterances, some cut to 0.3-0.7 s, 0.4-1.6 s apart),
the real CLI against the emulator, the dub decoded and checked against the ground truth.

Before the dub's parts followed the utterances (and cut a word when the clip had too few pauses), a short
utterance joined into one cue phrase with its neighbour got no part of its own, and the part before it ran
out first: in this talk two utterances of eight had no dub over them with livetranslate and omni, one with
whisper."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubber.emulator import DEFAULT_KEY
from tests.support import avprobe
from tests.support.mediagen import RATE, utterance, write_media

# (pause before it in s, recording, (first sample, samples) of it to keep, or None for all of it)
TALK = [
    (0.9, "en02", (6168, 5109)), (0.9, "en05", (4914, 8047)), (0.4, "en04", None), (0.6, "en01", None),
    (0.4, "en05", (8108, 6228)), (1.6, "en05", (3052, 11048)), (1.6, "en02", (3859, 5723)), (1.6, "en03", None),
]
SHORTEST_MS = 300  # the requirement: every utterance this long or longer carries dubbed speech
# ... meaning the dub sounds over at least this share of it: on the shortest, about 100 ms, a syllable.
# An utterance with no part of its own gets at most the fading tail of the part before it.
DUBBED_SHARE = 0.3

BACKENDS = {
    "livetranslate": ("--to", "fr"),
    "omni": ("--backend", "omni", "--to", "fr"),
    "whisper": ("--backend", "whisper", "--to", "en"),
}


@pytest.fixture(scope="module")
def talk() -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The talk's samples at RATE, and where each utterance is (ms)."""
    pieces, spans, at = [], [], 0
    for pause_s, name, keep in TALK:
        voice = utterance(name)
        if keep is not None:
            voice = voice[keep[0]:keep[0] + keep[1]]
        gap = np.zeros(int(pause_s * RATE), dtype=np.int16)
        start = at + len(gap)
        pieces += [gap, voice]
        spans.append((start * 1000 // RATE, (start + len(voice)) * 1000 // RATE))
        at = start + len(voice)
    pieces.append(np.zeros(RATE, dtype=np.int16))
    return np.concatenate(pieces), spans


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_utterance_carries_dubbed_speech(tmp_path: Path, run_dubber, dubber_env, emulator, talk, backend):
    pcm, spans = talk
    media = write_media(pcm, tmp_path / "talk.wav")
    env = {**dubber_env, "OPENAI_API_KEY": DEFAULT_KEY, "OPENAI_BASE_URL": emulator.openai_base_url}
    out = tmp_path / "dubbed.wav"
    result = run_dubber("dub", media, *BACKENDS[backend], "--mix", "replace", "--no-cache", "-o", out, env=env)
    assert result.code == 0, result.stderr
    dub, rate = avprobe.decode_audio(out)
    voiced = avprobe.voiced_ms(dub, rate)  # the dub alone: the original is replaced

    assert len(spans) == 8 and all(end - start >= SHORTEST_MS for start, end in spans)
    heard = [(start, end, 10 * int(np.count_nonzero((voiced >= start) & (voiced < end)))) for start, end in spans]
    undubbed = [(start, end, ms) for start, end, ms in heard if ms < DUBBED_SHARE * (end - start)]
    assert not undubbed, f"utterances (start, end, voiced dub ms) with too little dub over them: {undubbed}"
