"""The speakers of a run: each with their talk time, their pitch and, in a dub, their voice."""
from __future__ import annotations

from typing import Mapping, Sequence

from dubber.models import Speaker, Turn
from dubber.speakers.pitch import speaker_pitch
from dubber.speakers.turns import talk_time
from dubber.speakers.voices import assign_voices
from dubber.speech.frames import Samples


def describe(turns: Sequence[Turn]) -> tuple[Speaker, ...]:
    """Each speaker of ``turns`` with their talk time (subtitles and transcripts: no voice, no pitch)."""
    return tuple(Speaker(number, ms) for number, ms in talk_time(turns).items())


def cast(pcm: Samples, rate: int, turns: Sequence[Turn], voices: Sequence[str] | None, given: Mapping[int, str],
         default: str) -> tuple[Speaker, ...]:
    """Each speaker of ``turns`` with a voice for the whole file and every language: ``given``'s (``--voices``),
    else one of ``voices`` matched to their pitch, a different one each; ``default`` for all when the
    backend documents no voices to choose from."""
    talk = talk_time(turns)
    if not talk:
        return ()
    pitches = speaker_pitch(pcm, rate, turns)
    chosen = assign_voices(pitches, voices, given, default) if voices else {n: given.get(n, default) for n in talk}
    return tuple(Speaker(number, ms, pitches.get(number), chosen[number]) for number, ms in talk.items())
