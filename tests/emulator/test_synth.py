"""The pure generators of placeholder text and speech."""
from __future__ import annotations

import hashlib
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.emulator.synth import SCRIPTS, placeholder_speech, placeholder_text, text_pieces, voiced_ms
from dubber.languages import CJK, SUPPORTED
from tests.emulator.helpers import RATE, speech_signal


LATIN = sorted(set(SUPPORTED) - set(SCRIPTS))  # the languages answered in Latin pseudo-words


@settings(max_examples=60, deadline=None)
@given(voiced=st.integers(1, 120_000), lang=st.sampled_from(LATIN + sorted(CJK)), seed=st.integers(0, 2**64 - 1))
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


def test_latin_and_chinese_answers_are_unchanged():
    """Other tests compare answers: the script table must not move a byte of Latin or Chinese text."""
    langs = ("de", "en", "es", "fr", "id", "it", "pt", "tr", "vi", "zh", "yue")
    text = "\n".join(placeholder_text(ms, lang, seed) for lang in langs for ms in (20, 1500, 4000, 30000)
                     for seed in (1, 7, 2**63 + 5))
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest == "ee3dec883777534cb2bb1add810da1a64f1009a21739f50d1eb81306e0c0b836"
    assert placeholder_text(1500, "en", 7) == "Tati lomihar renleni tu."
    assert placeholder_text(4000, "zh", 7) == "之们么前我他作大可开在发也了中能。"


# Each language's letters and marks, by the start of their Unicode names.
SCRIPT_NAMES = {
    "ko": ("HANGUL",), "ja": ("HIRAGANA", "KATAKANA", "CJK UNIFIED IDEOGRAPH"), "ru": ("CYRILLIC",),
    "el": ("GREEK",), "ar": ("ARABIC",), "hi": ("DEVANAGARI",), "th": ("THAI",),
}
SENTENCE_END = {"ja": "。", "hi": "।", "th": ""}


def _letters(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch)[0] in "LM"]


@pytest.mark.parametrize("lang", sorted(SCRIPT_NAMES))
@pytest.mark.parametrize("seed", [3, 2**40 + 1])
def test_placeholder_text_is_written_in_the_languages_script(lang, seed):
    text = placeholder_text(20_000, lang, seed)
    assert text == placeholder_text(20_000, lang, seed)
    letters = _letters(text)
    assert len(letters) > 20
    strays = {ch for ch in letters if not unicodedata.name(ch, "").startswith(SCRIPT_NAMES[lang])}
    assert not strays, f"{lang}: letters from another script: {sorted(strays)}"
    end = SENTENCE_END.get(lang, ".")
    others = {ch for ch in text if unicodedata.category(ch)[0] not in "LM"} - {" ", *end}
    assert not others, others
    if end:
        assert text.endswith(end)


def test_japanese_mixes_kana_and_kanji():
    names = [unicodedata.name(ch) for ch in _letters(placeholder_text(30_000, "ja", 5))]
    assert all(any(n.startswith(p) for n in names) for p in ("HIRAGANA", "KATAKANA", "CJK UNIFIED IDEOGRAPH"))
    kana = sum(n.startswith(("HIRAGANA", "KATAKANA")) for n in names)
    assert kana > len(names) / 2  # kana outnumber kanji, as in running text


@pytest.mark.parametrize("lang", ["ko", "ru", "el", "ar", "hi"])
def test_spaced_scripts_give_words_at_the_pace_of_speech(lang):
    text = placeholder_text(40_000, lang, 11)
    assert abs(len(text.split()) - 40_000 / 400) <= 1  # 2.5 words a second, as in Latin text
    if lang in ("ru", "el"):  # scripts with capitals start each sentence with one
        assert all(sentence[0].isupper() for sentence in text.split(". "))


def test_thai_runs_words_together_and_spaces_sentences():
    text = placeholder_text(40_000, "th", 11)
    sentences = text.split(" ")
    # 100 words in sentences of 4-12 words: at least 9 sentences, none empty, no double spaces
    assert len(sentences) >= 9 and all(sentences)
    assert not text.startswith(" ") and not text.endswith(" ")
