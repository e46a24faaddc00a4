"""Placing a window's text on its speech (pure)."""
from __future__ import annotations

from dubber.subtitles.timing import TimingRules, fit_text, group_phrases, place_pieces, share_text, window_drafts
from dubber.subtitles.linebreak import LineRules
from dubber.models import Span

RULES = TimingRules()


def test_phrases_split_at_pauses_but_not_between_words():
    spans = [Span(0, 1500), Span(1700, 3000), Span(3600, 5000)]
    assert group_phrases(spans, RULES) == [[Span(0, 1500), Span(1700, 3000)], [Span(3600, 5000)]]


def test_a_phrase_too_short_to_read_joins_the_next():
    spans = [Span(0, 400), Span(800, 3000)]  # 0.4 s of speech, next onset 0.8 s later: no room for a cue
    assert group_phrases(spans, RULES) == [[Span(0, 400), Span(800, 3000)]]


def test_text_is_shared_in_proportion_at_sentence_ends():
    assert share_text("One two three. Four five six.", [1000, 1000], "spaced") == ["One two three.", "Four five six."]


def test_pieces_follow_speech_and_skip_pauses():
    assert place_pieces(["aaaa", "bbbb"], [Span(1000, 3000), Span(5000, 7000)]) == [Span(1000, 3000), Span(5000, 7000)]


def test_every_phrase_gets_words_and_starts_on_its_onset():
    spans = [Span(0, 2000), Span(2600, 4000), Span(5000, 7000)]
    drafts = window_drafts("We walk along the river. Then lunch. And home we go again.", spans, LineRules(), RULES)
    assert [d.start_ms for d in drafts] == [0, 2600, 5000]


def test_fit_text_cuts_at_a_word_with_an_ellipsis():
    assert fit_text("short", 10, LineRules()) == "short"
    assert fit_text("one two three four", 10, LineRules()) == "one two…"
