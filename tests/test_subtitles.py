"""Cue building (pure) and the SRT/VTT writers, read back by the libraries."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.models import Cue, Span, Translation, TranslationResult, Window
from dubber.subtitles import CueOptions, build_cues, clean_text, place_pieces, split_text, to_srt, to_vtt
from tests.cues import read_srt, read_vtt


def test_split_prefers_sentences_then_clauses():
    text = "The weather is fine today. We will walk along the river, then eat lunch by the old bridge."
    pieces = split_text(text, 42, cjk=False)
    assert pieces[0] == "The weather is fine today."
    assert all(len(p) <= 42 for p in pieces)
    assert " ".join(pieces) == text


def test_split_cjk_without_spaces():
    pieces = split_text("今天天气很好。我们去公园散步吧，然后一起吃午饭，最后回家休息一下。", 16, cjk=True)
    assert pieces[0] == "今天天气很好。" and all(len(p) <= 16 for p in pieces)


def test_clean_text_folds_blank_lines_and_controls():
    assert clean_text("a\n\n b\x00c\r\n\td") == "a b c d"


def test_pieces_follow_speech_and_skip_pauses():
    spans = [Span(1000, 3000), Span(5000, 7000)]
    placed = place_pieces(["aaaa", "bbbb"], spans)
    assert placed == [Span(1000, 3000), Span(5000, 7000)]


def _translation(index, start, end, text, spans=None):
    window = Window(index, start, end, tuple(spans or [Span(start, end)]))
    return Translation(window, TranslationResult(text=text))


words = st.text(alphabet="abcdefghij .,!?", min_size=0, max_size=300)


@st.composite
def runs(draw):
    t, out = draw(st.integers(0, 3000)), []
    for i in range(draw(st.integers(0, 8))):
        length = draw(st.integers(100, 15000))
        out.append(_translation(i, t, t + length, draw(words)))
        t += length + draw(st.integers(0, 4000))
    return out, t + draw(st.integers(0, 3000))


@settings(max_examples=200, deadline=None)
@given(runs())
def test_cues_are_ordered_disjoint_and_inside_the_media(run):
    translations, duration = run
    options = CueOptions()
    cues = build_cues(translations, "en", duration, options)
    for cue in cues:
        assert 0 <= cue.start_ms < cue.end_ms <= duration
    for a, b in zip(cues, cues[1:]):
        assert a.end_ms + options.gap_ms <= b.start_ms
    if duration > 0:  # no word is ever lost, whatever the room
        assert " ".join(c.text for c in cues).split() == " ".join(t.result.text for t in translations).split()


def test_cue_lines_respect_the_limits():
    text = "The weather today is bright and clear, and we will walk along the river after a long lunch."
    cues = build_cues([_translation(0, 1000, 9000, text)], "en", 10000)
    assert len(cues) >= 2
    assert all(len(line) <= 42 for c in cues for line in c.text.splitlines())
    assert all(len(c.text.splitlines()) <= 2 for c in cues)


def test_writers_agree_and_survive_hostile_text(tmp_path):
    cues = [Cue(0, 1500, "a --> b & <b>bold</b>"), Cue(2000, 3500, "line one\nline two"), Cue(3600, 4000, "ok")]
    (tmp_path / "x.srt").write_text(to_srt(cues), encoding="utf-8")
    (tmp_path / "x.vtt").write_text(to_vtt(cues), encoding="utf-8")
    expected = [(c.start_ms, c.end_ms, c.text) for c in cues]
    assert read_srt(tmp_path / "x.srt") == expected
    assert read_vtt(tmp_path / "x.vtt") == expected


def test_empty_cue_list_writes_valid_empty_files(tmp_path):
    (tmp_path / "e.srt").write_text(to_srt([]))
    (tmp_path / "e.vtt").write_text(to_vtt([]))
    assert read_srt(tmp_path / "e.srt") == [] and read_vtt(tmp_path / "e.vtt") == []
