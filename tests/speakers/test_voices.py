"""speakers.voices: a different voice per speaker, matched to pitch in order; --voices parsed and checked."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubber.backends.omni import VOICES as DASHSCOPE
from dubber.backends.openai_speech import VOICES as OPENAI
from dubber.errors import OptionError
from dubber.speakers.voices import PITCH_HZ, assign_voices, parse_voices


def test_every_backend_voice_has_a_register():
    assert set(DASHSCOPE) | set(OPENAI) <= set(PITCH_HZ)


@given(st.dictionaries(st.integers(1, 8), st.one_of(st.none(), st.floats(70, 350)), min_size=1, max_size=8),
       st.sampled_from([DASHSCOPE, OPENAI]))
def test_each_speaker_gets_a_voice_of_the_list_and_a_different_one_while_they_last(pitches, voices):
    chosen = assign_voices(pitches, voices, default=voices[0])
    assert set(chosen) == set(pitches) and set(chosen.values()) <= set(voices)
    if len(pitches) <= len(voices):
        assert len(set(chosen.values())) == len(pitches)
    known = sorted((p, s) for s, p in pitches.items() if p is not None)
    registers = [PITCH_HZ[chosen[s]] for _, s in known]
    assert registers == sorted(registers)  # lower speakers, lower voices


def test_a_man_and_a_woman_get_a_male_and_a_female_voice():
    chosen = assign_voices({1: 118.0, 2: 215.0}, DASHSCOPE, default="Cherry")
    assert PITCH_HZ[chosen[1]] < 160 < PITCH_HZ[chosen[2]]
    assert chosen[2] == "Cherry"  # the first of the list's voices nearest her pitch
    two_men = assign_voices({1: 100.0, 2: 135.0}, DASHSCOPE)
    assert two_men[1] != two_men[2] and PITCH_HZ[two_men[1]] < PITCH_HZ[two_men[2]] < 160


def test_given_voices_are_kept_and_not_given_twice():
    chosen = assign_voices({1: 118.0, 2: 120.0}, DASHSCOPE, given={1: "Ethan"})
    assert chosen[1] == "Ethan" and chosen[2] != "Ethan"


def test_parse_voices_refuses_what_is_not_a_speaker_voice_pair():
    assert parse_voices("2=onyx", OPENAI) == {2: "onyx"}
    for bad in ("Cherry", "0=Cherry", "x=Cherry", "1="):
        with pytest.raises(OptionError, match="speaker=voice pairs"):
            parse_voices(bad, DASHSCOPE)
    with pytest.raises(OptionError, match="unknown voice 'Nobody'"):
        parse_voices("1=Nobody", DASHSCOPE)
