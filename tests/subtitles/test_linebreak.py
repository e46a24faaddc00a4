"""Text → pieces and lines."""
from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dubber.subtitles.linebreak import LineRules, break_lines, clean_text, split_to_fit, width

EN = LineRules()
ZH = LineRules(line_chars=16, script="cjk", lang="zh", half_width=True)


def test_width_counts_what_a_reader_sees():
    assert width("café") == 4 and width("cafe\u0301") == 4 and width("今天") == 2 and width("a\u200bb") == 2
    assert width("น้ำที่") == 2 and width("हिन्दी") == 2  # Thai marks above and below, Devanagari conjuncts
    assert width("今天 OK", half_width=True) == 3.5  # the CJK guides count half-width characters half


def test_clean_text_folds_blank_lines_and_controls():
    assert clean_text("a\n\n b\x00c\r\n\td") == "a b c d"


def test_pieces_prefer_sentences_then_clauses():
    text = "The weather is fine today. We will walk along the river, then eat lunch by the old bridge in town."
    pieces = split_to_fit(text, LineRules(line_chars=30))
    assert pieces[0] == "The weather is fine today."
    assert pieces[1].endswith(",") and " ".join(pieces) == text


def test_cjk_pieces_cut_after_punctuation():
    pieces = split_to_fit("今天天气很好。我们去公园散步吧，然后一起吃午饭，最后回家休息一下。", ZH)
    assert pieces[0] == "今天天气很好。" and all(width(p) <= 32 for p in pieces)


def test_line_break_after_punctuation():
    assert break_lines("We will walk along the river, then eat lunch by the bridge.", EN) == \
        "We will walk along the river,\nthen eat lunch by the bridge."


def test_line_break_before_a_conjunction_and_never_after_a_short_word():
    text = "Please bring a warm coat and some water for the long walk"
    broken = break_lines(text, EN)
    first = broken.splitlines()[0]
    assert len(first.rsplit(" ", 1)[-1]) > 3, broken
    assert broken == "Please bring a warm coat and some water\nfor the long walk" or \
        broken.splitlines()[1].split()[0] in ("and", "for")


def test_short_text_stays_on_one_line():
    assert break_lines("Thank you.", EN) == "Thank you."


@given(st.lists(st.sampled_from("a bb ccc dddd eeeee ffffff, gggggggg. hh".split()), min_size=1, max_size=40))
# narrower than two lines, yet no boundary parts it into two lines that fit (hypothesis found it)
@example(words=["a"] * 7 + ["eeeee"] + ["ffffff,"] * 3 + ["a"] + ["ffffff,"] * 3 + ["gggggggg."])
@settings(deadline=None)  # a property of the result, not of speed: a loaded CI machine must not fail it
def test_pieces_fit_two_lines(words):
    for piece in split_to_fit(" ".join(words), EN):
        lines = break_lines(piece, EN).splitlines()
        assert len(lines) <= 2 and all(width(x) <= 42 for x in lines)
