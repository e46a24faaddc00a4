"""The pure generators of placeholder text and speech."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.emulator.synth import placeholder_speech, placeholder_text, text_pieces, voiced_ms
from dubber.languages import CJK, SUPPORTED
from tests.emulator.helpers import RATE, speech_signal


@settings(max_examples=60, deadline=None)
@given(voiced=st.integers(1, 120_000), lang=st.sampled_from(sorted(SUPPORTED)), seed=st.integers(0, 2**64 - 1))
def test_placeholder_text_shape(voiced, lang, seed):
    text = placeholder_text(voiced, lang, seed)
    assert text == placeholder_text(voiced, lang, seed)
    if lang in CJK:
        sentences = text.split("。")[:-1]
        assert text.endswith("。") and abs(sum(map(len, sentences)) - voiced / 250) <= 1
        return
    sentences = text.split(". ")
    assert text.endswith(".") and abs(len(text.split()) - voiced / 400) <= 1
    for sentence in sentences:
        words = sentence.rstrip(".").split(" ")
        assert sentence[0].isupper() and (4 <= len(words) <= 12 or len(sentences) == 1)


@pytest.mark.parametrize("voiced", [0, 20, 1500, 7000])
def test_placeholder_speech_length_level_and_fades(voiced):
    pcm = placeholder_speech(voiced, seed=42)
    assert pcm == placeholder_speech(voiced, seed=42)
    samples = np.frombuffer(pcm, dtype="<i2")
    assert voiced * 24 <= len(samples) <= voiced * 24 * 1.15 + 1
    if voiced:
        assert abs(20 * np.log10(np.abs(samples).max() / 32768) + 6) < 0.1
        assert samples[0] == 0 and abs(int(samples[-1])) < 200


def test_voiced_ms_counts_speech_frames_only():
    as_int16 = lambda s: np.round(s * 32767).astype(np.int16)  # noqa: E731
    assert voiced_ms(as_int16(speech_signal(1.5)), RATE) == 1500
    assert voiced_ms(as_int16(speech_signal(1.5)[RATE // 2 : -RATE // 2]), RATE) == 1500  # no silence
    assert voiced_ms(np.zeros(RATE, dtype=np.int16), RATE) == 0
    assert voiced_ms(np.zeros(10, dtype=np.int16), RATE) == 0


@settings(max_examples=100, deadline=None)
@given(text=st.text(), lang=st.sampled_from(sorted(SUPPORTED)))
def test_text_pieces_join_back_to_the_text(text, lang):
    assert "".join(text_pieces(text, lang)) == text
