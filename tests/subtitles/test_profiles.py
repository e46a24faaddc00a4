"""Each language's rules from its guide, and line breaking that never splits a grapheme cluster."""
from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.languages import SUPPORTED
from dubber.subtitles.cues import CueOptions
from dubber.subtitles.linebreak import break_lines, split_to_fit
from dubber.subtitles.profiles import PROFILES, profile
from dubber.subtitles.timing import two_frames_ms
from tests.support.rules import GUIDE, graphemes, line_chars, width

THAI_WORDS = ["น้ำ", "ที่", "บ้าน", "เมือง", "ดี", "มาก", "และ", "เรา", "ไป", "ทำงาน", "วันนี้", "ความ", "สุข"]


def _bounds(text: str) -> set[int]:
    return {m.end() for m in regex.finditer(r"\X", text)} | {0}


def _cut_offsets(pieces: list[str], original: str) -> list[int]:
    """Where each piece ends in ``original`` (white space between pieces skipped)."""
    offsets, at = [], 0
    for piece in pieces:
        at = original.index(piece, at) + len(piece)
        offsets.append(at)
    return offsets


def test_every_supported_language_has_its_guide_numbers():
    assert set(PROFILES) == set(SUPPORTED)
    for code, (chars, cps) in GUIDE.items():  # the tests' own table, written from the guides
        p = profile(code)
        assert (p.line_chars, p.max_cps, p.max_lines) == (chars, cps, 2), code
        assert p.guide and p.target_cps <= p.max_cps
    assert profile("und").line_chars == 42 and profile(None) == profile("und")


def test_cue_options_take_the_cue_languages_numbers_and_the_inputs_frame_rate():
    options = CueOptions().at_frame_rate(25)
    assert (options.lines("ja").line_chars, options.rules("ja").max_cps) == (13, 4)
    assert (options.lines("ko").line_chars, options.rules("ko").max_cps) == (16, 12)
    assert (options.lines("en").line_chars, options.rules("en").target_cps, options.rules("en").max_cps) == (42, 17, 20)
    assert options.rules("fr").gap_ms == 80 and CueOptions().rules("fr").gap_ms == 84
    assert two_frames_ms(30000 / 1001) == 67 and two_frames_ms(60) == 34


def test_thai_breaks_between_words_and_never_inside_a_cluster():
    text = "".join(THAI_WORDS * 4)
    naive = set(range(35, len(text), 35))  # cutting every 35 code points parts letters from their marks
    assert naive - _bounds(text), "the text no longer tests what a naive cut would do"
    rules = CueOptions().lines("th")
    pieces = split_to_fit(text, rules)
    assert "".join(pieces) == text
    lines = [line for piece in pieces for line in break_lines(piece, rules).split("\n")]
    assert "".join(lines) == text and all(width(line) <= 35 for line in lines)
    # every cut falls between two of the dictionary's words, not merely between clusters
    word_ends = {sum(len(w) for w in (THAI_WORDS * 4)[:i]) for i in range(len(THAI_WORDS) * 4 + 1)}
    assert set(_cut_offsets(lines, text)) <= word_ends


def test_chinese_and_japanese_keep_punctuation_on_its_line():
    rules = CueOptions().lines("ja")
    text = "今日はいい天気ですね。「ちょっと」待ってください、すぐに行きます。"
    lines = [line for piece in split_to_fit(text, rules) for line in break_lines(piece, rules).split("\n")]
    assert "".join(lines) == text
    assert all(width(line, "ja") <= 13 for line in lines)
    assert not any(line[0] in "。、」っー" or line[-1] == "「" for line in lines), lines


def test_a_word_longer_than_a_line_is_cut_between_clusters():
    rules = CueOptions().lines("hi")
    word = "स्वतन्त्रता" * 12  # conjuncts and vowel signs: many code points to a cluster
    lines = break_lines(word, rules).split("\n")
    assert "".join(lines) == word and len(lines) > 1
    assert all(width(line) <= 42 for line in lines)
    assert set(_cut_offsets(lines, word)) <= _bounds(word)


@settings(deadline=None)
@given(st.lists(st.sampled_from(THAI_WORDS + ["ก่อน", "แม่", "ปู่", " "]), min_size=1, max_size=120).map("".join),
       st.sampled_from(["th", "hi", "ar", "ko", "zh", "ja"]))
def test_no_cut_ever_parts_a_cluster(text, lang):
    rules = CueOptions().lines(lang)
    text = " ".join(text.split())
    if not text:
        return
    pieces = split_to_fit(text, rules)
    lines = [line for piece in pieces for line in break_lines(piece, rules).split("\n")]
    assert "".join(lines) == text.replace(" ", "") or " ".join(lines).replace(" ", "") == text.replace(" ", "")
    squeezed = text.replace(" ", "")
    assert set(_cut_offsets([line.replace(" ", "") for line in lines], squeezed)) <= _bounds(squeezed)
    assert all(width(line, lang) <= line_chars(lang) for line in lines)
    assert [g for line in lines for g in graphemes(line) if g != " "] == [g for g in graphemes(text) if g != " "]
