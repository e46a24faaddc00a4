"""Matching given cues to the earlier dub's by their words (pure)."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dubber.models import Cue
from dubber.voicing.match import TIME_TOLERANCE_MS, match_cues

EARLIER = [Cue(1000, 2500, "Bonjour à tous."), Cue(3000, 4200, "Nous commençons\nmaintenant."),
           Cue(5000, 6000, "Oui."), Cue(7000, 8000, "Merci."), Cue(9000, 9800, "Oui.")]


def test_an_editor_resave_matches_every_cue_unmoved():
    # re-broken lines, markup, an extra space, centisecond times: the same words at the same times
    resaved = [Cue(1000, 2500, "<i>Bonjour à tous.</i>"), Cue(3000, 4200, "Nous commençons  maintenant."),
               Cue(5000, 6000, "Oui."), Cue(7010, 7990, "Merci."), Cue(9000, 9800, "Oui.")]
    assert [(m.earlier, m.moved) for m in match_cues(resaved, EARLIER)] == [(k, False) for k in range(5)]


def test_an_edited_cue_has_no_match_and_a_moved_one_is_moved():
    given_cues = [EARLIER[0], Cue(3000, 4200, "Nous commençons tout de suite."), EARLIER[2],
                  Cue(7300, 8300, "Merci."), EARLIER[4]]
    assert [(m.earlier, m.moved) for m in match_cues(given_cues, EARLIER)] == \
        [(0, False), (None, False), (2, False), (3, True), (4, False)]


def test_a_deleted_and_an_inserted_cue_leave_the_others_matched_in_order():
    given_cues = [EARLIER[0], Cue(4300, 4900, "Un ajout."), EARLIER[2], EARLIER[3], EARLIER[4]]
    del given_cues[0]  # the first cue deleted too
    matches = match_cues(given_cues, EARLIER)
    assert [m.earlier for m in matches] == [None, 2, 3, 4]


def test_repeated_words_pair_in_order_not_with_the_first_alike():
    given_cues = [EARLIER[2], EARLIER[4]]  # two "Oui." cues: each keeps its own speech
    assert [m.earlier for m in match_cues(given_cues, EARLIER)] == [2, 4]


@given(st.lists(st.integers(-3 * TIME_TOLERANCE_MS, 3 * TIME_TOLERANCE_MS), min_size=5, max_size=5))
def test_moved_means_beyond_the_tolerance(shifts):
    given_cues = [Cue(c.start_ms + d, c.end_ms + d, c.text) for c, d in zip(EARLIER, shifts)]
    assert [m.moved for m in match_cues(given_cues, EARLIER)] == [abs(d) > TIME_TOLERANCE_MS for d in shifts]
