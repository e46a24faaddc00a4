"""Cue building (pure) by the style rules, and the SRT/VTT writers read back by the libraries."""
from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from dubber.models import Cue, Span, Translation, TranslationResult, Window
from dubber.subtitles.cues import CueOptions, build_cue_track, build_cues
from dubber.subtitles.writers import to_srt, to_vtt
from tests.support.cues import read_srt, read_vtt
from tests.support.rules import rule_breaks, words

LATIN = "The weather today is bright and clear. We will walk along the river, then eat lunch by the bridge."
HANZI = "今天天气很好。我们去公园散步吧，然后一起吃午饭，最后回家休息一下。"


def _translation(index, text, spans):
    window = Window(index, spans[0].start_ms - 200, spans[-1].end_ms + 200, tuple(spans))
    return Translation(window, TranslationResult(text=text))


def test_each_phrase_after_a_pause_gets_a_cue_on_its_onset():
    spans = [Span(1000, 3000), Span(3800, 6000), Span(6200, 8000)]  # pauses of 0.8 s and 0.2 s
    cues = build_cues([_translation(0, LATIN, spans)], "en", 10000)
    assert [c.start_ms for c in cues][:2] == [1000, 3800]
    assert rule_breaks(cues, "en", 10000) == []


def test_no_cue_sits_over_a_pause_of_a_second():
    spans = [Span(0, 2500), Span(4000, 6500)]
    cues = build_cues([_translation(0, LATIN, spans)], "en", 8000)
    assert not any(c.start_ms < 2500 + 500 and c.end_ms > 4000 - 100 for c in cues if c.start_ms < 2500)
    assert any(c.start_ms == 4000 for c in cues)


def test_cjk_cues_keep_sixteen_characters_a_line():
    cues = build_cues([_translation(0, HANZI, [Span(500, 4000), Span(4800, 7000)])], "zh", 9000)
    assert len(cues) >= 2 and rule_breaks(cues, "zh", 9000) == []


def test_too_much_text_extends_into_silence_then_is_kept_whole_and_reported(caplog):
    text = "This translation is far longer than the little bit of speech it belongs to could ever carry."
    roomy = build_cues([_translation(0, text, [Span(1000, 2000)])], "en", 12000)
    assert rule_breaks(roomy, "en", 12000) == [] and "…" not in "".join(c.text for c in roomy)
    assert roomy[-1].end_ms > 2000 + 500  # reading time taken from the silence after the speech
    cramped = [_translation(0, text, [Span(1000, 2000)]), _translation(1, "Next.", [Span(3000, 4000)])]
    track = build_cue_track(cramped, "en", 5000)
    assert words(" ".join(c.text for c in track.cues), "en") == words(text + " Next.", "en")
    # the words before "Next." share its 1.9 s as two cues (each 5/6 s at least), both too fast: reported
    assert [o.cue for o in track.overlong] == [1, 2] and {o.limit for o in track.overlong} == {20}
    for o in track.overlong:
        cue = track.cues[o.cue - 1]
        assert o.cps == round(len(cue.text.replace("\n", " ")) / ((cue.end_ms - cue.start_ms) / 1000), 1) > 20
    assert rule_breaks(track.cues, "en", 5000, reported={1, 2}) == []
    assert rule_breaks(track.cues, "en", 5000) != []  # the check sees them
    first, second = track.overlong
    assert [r.getMessage() for r in caplog.records] == ["2 cues read faster than the English limit of 20 characters "
                                                        f"a second: 1 ({first.cps:g}), 2 ({second.cps:g})"]


def test_cutting_with_an_ellipsis_only_on_request():
    cramped = [_translation(0, "This translation is far longer than the little bit of speech it belongs to "
                               "could ever carry.", [Span(1000, 2000)]), _translation(1, "Next.", [Span(3000, 4000)])]
    track = build_cue_track(cramped, "en", 5000, CueOptions(cut_overlong=True))
    assert rule_breaks(track.cues, "en", 5000) == [] and track.overlong == ()
    assert track.cues[0].text.endswith("…") and track.cues[1].text == "Next."


VOCABULARY = {
    "en": st.lists(st.sampled_from("we walk along the river and then eat lunch by old bridge today , .".split()),
                   max_size=60).map(" ".join),
    "de": st.lists(st.sampled_from("wir gehen Donaudampfschifffahrtsgesellschaftskapitän und dann , .".split()),
                   max_size=40).map(" ".join),
    "zh": st.lists(st.sampled_from(list("今天天气很好我们去公园散步吧然后一起吃午饭") + ["，", "。"]),
                   max_size=120).map("".join),
    "ja": st.lists(st.sampled_from(list("今日はいい天気ですねっ。「ちょっと」待ってー、") + ["OK", "ラーメン"]),
                   max_size=80).map("".join),
    "th": st.lists(st.sampled_from(["น้ำ", "ที่", "บ้าน", "เมือง", "ดี", "มาก", "และ", "เรา", "ไป", "ทำงาน",
                                    "วันนี้", " "]), max_size=80).map("".join),
    "ko": st.lists(st.sampled_from("오늘은 날씨가 정말 좋네요 , . 우리는 강을 따라 걸었다".split()),
                   max_size=50).map(" ".join),
}


@st.composite
def runs(draw, lang="en"):
    t, out = draw(st.integers(0, 3000)), []
    for i in range(draw(st.integers(0, 6))):
        spans = []
        for _ in range(draw(st.integers(1, 4))):
            length = draw(st.integers(300, 6000))
            spans.append(Span(t, t + length))
            t += length + draw(st.integers(100, 1500))
        out.append(_translation(i, draw(VOCABULARY[lang]), spans))
        t += draw(st.integers(300, 5000))  # windows split at 0.7 s pauses, or at long silences
    return out, max(1000, t + draw(st.integers(0, 3000)))  # media under 5/6 s cannot show a cue that long


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(VOCABULARY)).flatmap(lambda lang: st.tuples(st.just(lang), runs(lang))))
def test_every_cue_obeys_the_rules_and_no_word_is_lost(case):
    lang, (translations, duration) = case
    track = build_cue_track(translations, lang, duration)
    assert rule_breaks(track.cues, lang, duration, reported={o.cue for o in track.overlong}) == []
    said = " ".join(t.result.text for t in sorted(translations, key=lambda t: t.window.start_ms))
    assert words(" ".join(c.text for c in track.cues), lang) == words(said, lang)


def test_writers_agree_and_survive_hostile_text(tmp_path):
    cues = [Cue(0, 1500, "a --> b & <b>bold</b>"), Cue(2000, 3500, "line one\nline two"), Cue(3600, 4000, "ok")]
    (tmp_path / "x.srt").write_text(to_srt(cues), encoding="utf-8")
    (tmp_path / "x.vtt").write_text(to_vtt(cues), encoding="utf-8")
    expected = [(c.start_ms, c.end_ms, c.text) for c in cues]
    assert read_vtt(tmp_path / "x.vtt") == expected  # WebVTT escapes what it must
    # SRT has no escapes: a model's "-->" is written "->", so no reader can take it for a timing line
    assert read_srt(tmp_path / "x.srt") == [(0, 1500, "a -> b & <b>bold</b>"), *expected[1:]]


def test_empty_cue_list_writes_valid_empty_files(tmp_path):
    (tmp_path / "e.srt").write_text(to_srt([]))
    (tmp_path / "e.vtt").write_text(to_vtt([]))
    assert read_srt(tmp_path / "e.srt") == [] and read_vtt(tmp_path / "e.vtt") == []


def test_backend_timestamps_are_used_when_given():
    from dubber.models import Segment

    window = Window(0, 10000, 20000, (Span(10000, 20000),))
    result = TranslationResult(text="ignored", segments=(Segment(1000, 3000, "First part."),
                                                         Segment(6000, 8000, "Second part.")))
    cues = build_cues([Translation(window, result)], "en", 30000)
    assert [(c.start_ms, c.text) for c in cues] == [(11000, "First part."), (16000, "Second part.")]


def _words(text: str) -> list[str]:
    return text.replace("\n", " ").split()


def test_bilingual_cues_put_the_source_under_the_translation_and_lose_no_word():
    source = "Heute ist das Wetter hell und klar. Wir gehen am Fluss entlang und essen dann an der Brücke."
    spans = [Span(1000, 3000), Span(3800, 6000), Span(6200, 8000)]
    cues = build_cues([_translation(0, LATIN, spans)], "en", 10000, sources={0: source}, source_code="de")
    assert len(cues) >= 2
    shown_translation, shown_source = [], []
    for cue in cues:
        lines = cue.text.split("\n")
        first_source = next(i for i, line in enumerate(lines) if _words(line)[0] in _words(source))
        assert first_source >= 1, f"the translation comes first: {cue.text!r}"
        shown_translation += _words("\n".join(lines[:first_source]))
        shown_source += _words("\n".join(lines[first_source:]))
    assert shown_translation == _words(LATIN) and shown_source == _words(source)
    # reading speed is the translation's: the same cue times as without the source line
    plain = build_cues([_translation(0, LATIN, spans)], "en", 10000)
    assert [(c.start_ms, c.end_ms) for c in cues] == [(c.start_ms, c.end_ms) for c in plain]


def test_bilingual_source_lines_follow_their_own_language_rules():
    spans = [Span(500, 4000), Span(4800, 7000)]
    cues = build_cues([_translation(0, LATIN, spans)], "en", 9000, sources={0: HANZI}, source_code="zh")
    for cue in cues:
        hanzi_lines = [line for line in cue.text.split("\n") if any("\u4e00" <= ch <= "\u9fff" for ch in line)]
        assert hanzi_lines and all(len(line) <= 16 for line in hanzi_lines), cue.text
    assert "".join("".join(l for l in c.text.split("\n") if any("\u4e00" <= ch <= "\u9fff" for ch in l))
                   for c in cues) == HANZI


def _spoken(index, start, end, text, speaker):
    return Translation(Window(index, start, end, (Span(start, end),), speaker=speaker), TranslationResult(text))


def test_speakers_mark_their_cues_and_two_sharing_a_cue_make_a_dialogue(tmp_path):
    import webvtt

    # "Yes?" is too short to stand alone before the answer: both go in one cue, each with a dash
    quick = [_spoken(0, 1000, 1300, "Yes?", 1), _spoken(1, 1400, 2600, "No, not today.", 2),
             _spoken(2, 6000, 9000, "Then tomorrow, at the station.", 1)]
    cues = build_cues(quick, "en", 12_000)
    assert cues[0].text == "-Yes?\n-No, not today." and cues[0].turns == ((1, "-Yes?"), (2, "-No, not today."))
    assert cues[-1].turns == ((1, cues[-1].text),) and not cues[-1].text.startswith("-")
    assert build_cues(quick, "fr", 12_000)[0].text.startswith("- ")  # French sets a space after the dash
    # WebVTT voice spans, read back by webvtt-py; SRT keeps the dashes
    path = tmp_path / "t.vtt"
    path.write_text(to_vtt(cues), encoding="utf-8")
    assert [c.voice for c in webvtt.read(str(path))] == ["Speaker 1", "Speaker 1"]  # a cue's first voice
    assert "<v Speaker 2>-No, not today.</v>" in path.read_text(encoding="utf-8")
    (tmp_path / "t.srt").write_text(to_srt(cues), encoding="utf-8")
    assert read_srt(tmp_path / "t.srt")[0][2] == "-Yes?\n-No, not today."
    import pysubs2

    from dubber.subtitles.ass import to_ass
    events = pysubs2.SSAFile.from_string(to_ass(cues, "en")).events
    assert [e.name for e in events] == ["Speaker 1 / Speaker 2", "Speaker 1"]
    # without speakers, nothing changes
    plain = build_cues([Translation(replace(t.window, speaker=None), t.result) for t in quick], "en", 12_000)
    assert all(not c.turns for c in plain) and plain[0].text == "Yes? No, not today."
