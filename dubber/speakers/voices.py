"""One voice per speaker: by hand (``--voices "1=Cherry,2=Ethan"``), else chosen from the backend's voices
to match each speaker's pitch, a different voice for each speaker. Pure.

A voice's pitch is its register as its documentation describes it (a young woman, a deep-voiced man, ...),
as the typical speaking F0 of such a voice: women speak around 165-255 Hz, men around 85-155 Hz (Titze,
*Principles of Voice Production*). Speakers are matched in order: the lowest speaker gets the lowest of the
chosen voices, and the voices are chosen to be as near each speaker's own pitch as that order allows.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from dubber.errors import OptionError

_MAN, _DEEP, _YOUNG_MAN, _WOMAN, _GIRL, _NEUTRAL = 115.0, 95.0, 130.0, 210.0, 245.0, 170.0

# Every voice of dubber's backends. DashScope's from qwen3-omni-flash's voice list (the descriptions:
# "a sunny ... young woman", "deep voice", "a little girl"); OpenAI's built-in voices are described as
# female (coral, nova, sage, shimmer), male (ash, echo, fable, onyx: "deep") and neutral (alloy).
PITCH_HZ: dict[str, float] = {
    "Cherry": _WOMAN, "Serena": _WOMAN, "Chelsie": _GIRL, "Ethan": _YOUNG_MAN, "Nofish": _MAN, "Jennifer": _WOMAN,
    "Ryan": _MAN, "Katerina": 195.0, "Elias": _MAN, "Jada": 200.0, "Dylan": _YOUNG_MAN, "Sunny": _GIRL,
    "Li": _MAN, "Marcus": _DEEP, "Roy": _MAN, "Peter": _MAN, "Rocky": _MAN, "Kiki": _GIRL, "Eric": _MAN,
    "alloy": _NEUTRAL, "ash": _MAN, "coral": _WOMAN, "echo": _MAN, "fable": _YOUNG_MAN, "onyx": _DEEP,
    "nova": _WOMAN, "sage": _WOMAN, "shimmer": _GIRL, "ballad": _MAN, "verse": _MAN, "marin": _WOMAN,
    "cedar": _MAN,
}


def parse_voices(text: str, voices: Sequence[str] | None) -> dict[int, str]:
    """``--voices "1=Cherry,2=Ethan"`` as {speaker: voice}, each voice checked against ``voices`` (None: the
    backend documents no list).

    >>> parse_voices("1=Cherry, 2=Ethan", ("Cherry", "Ethan"))
    {1: 'Cherry', 2: 'Ethan'}
    """
    out: dict[int, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        number, _, voice = item.partition("=")
        if not number.strip().isdigit() or int(number) < 1 or not voice.strip():
            raise OptionError(f"--voices takes speaker=voice pairs such as 1=Cherry,2=Ethan, not {item!r}")
        voice = voice.strip()
        if voices is not None and voice not in voices:
            raise OptionError(f"--voices: unknown voice {voice!r} (voices: {', '.join(voices)})")
        out[int(number)] = voice
    return out


def assign_voices(pitches: Mapping[int, float | None], voices: Sequence[str], given: Mapping[int, str] = {},
                  default: str | None = None) -> dict[int, str]:
    """A voice for each speaker of ``pitches`` (speaker: median F0 in Hz, None if unknown): ``given`` ones as
    given; the others a different voice each from ``voices`` (those not given), matched to their pitch in
    order. A lone speaker keeps ``default`` (the run's voice), as does a speaker of unknown pitch when it is
    free. With more speakers than voices, the voices are used again in turn.

    >>> assign_voices({1: 120.0, 2: 220.0}, ("Cherry", "Ethan", "Marcus"))
    {1: 'Ethan', 2: 'Cherry'}
    """
    if len(pitches) == 1 and not given and default is not None:
        return {speaker: default for speaker in pitches}  # one speaker: the run's own voice
    chosen = dict(given)
    free = [v for v in voices if v not in chosen.values()] or list(voices)
    todo = [s for s in sorted(pitches) if s not in chosen]
    if default in free:
        for speaker in [s for s in todo if pitches[s] is None][:1]:
            chosen[speaker] = default
            todo.remove(speaker)
            free.remove(default)
    known = sorted((s for s in todo if pitches[s] is not None), key=lambda s: (pitches[s], s))
    unknown = [s for s in todo if pitches[s] is None]
    ranked = sorted(free, key=lambda v: (PITCH_HZ.get(v, _NEUTRAL), free.index(v)))
    picked = _in_order([pitches[s] for s in known], ranked) if len(known) <= len(ranked) else []
    for i, speaker in enumerate(known):
        chosen[speaker] = picked[i] if picked else ranked[round(i * (len(ranked) - 1) / max(1, len(known) - 1))]
    rest = [v for v in ranked if v not in chosen.values()] or ranked
    for i, speaker in enumerate(unknown):
        chosen[speaker] = rest[i % len(rest)]
    return dict(sorted(chosen.items()))


def _in_order(pitches: Sequence[float], ranked: Sequence[str]) -> list[str]:
    """The ``len(pitches)`` voices of ``ranked`` (lowest first), in order, nearest ``pitches`` (sorted) in
    semitones: a dynamic programme over (speaker, voice)."""
    n, m = len(pitches), len(ranked)
    if n == 0:
        return []
    cost = [[abs(12 * math.log2(p / PITCH_HZ.get(v, _NEUTRAL))) for v in ranked] for p in pitches]
    best = [[math.inf] * (m + 1) for _ in range(n + 1)]  # best[i][j]: first i speakers among the first j voices
    best[0] = [0.0] * (m + 1)
    for i in range(1, n + 1):
        for j in range(i, m + 1):
            best[i][j] = min(best[i][j - 1], best[i - 1][j - 1] + cost[i - 1][j - 1])
    out, j = [], m
    for i in range(n, 0, -1):
        while best[i][j] == best[i][j - 1]:
            j -= 1
        out.append(ranked[j - 1])
        j -= 1
    return out[::-1]
