"""What an edited dub keeps, moves and voices (pure)."""
from __future__ import annotations

from dubber.dub.timeline import Placement
from dubber.models import Cue
from dubber.voicing.match import match_cues
from dubber.voicing.plan import EarlierDub, plan_voicing

CUES = (Cue(1000, 2500, "Un."), Cue(3000, 4500, "Deux."), Cue(5000, 6500, "Trois."))
# window 0 speaks the first two cues in two parts; window 1 the third in one
PARTS = (Placement(0, 1000, 2300, 2900, 1300, 1.0, 0, 0, 0), Placement(0, 3000, 4200, 4900, 1200, 1.0, 0, 1, 1400),
         Placement(1, 5000, 6400, 9000, 1400, 1.0, 0, 0, 0))
EARLIER = EarlierDub(CUES, PARTS)


def _plan(given):
    return plan_voicing(given, match_cues(given, CUES), EARLIER)


def test_nothing_changed_keeps_every_part_and_voices_nothing():
    plan = _plan(CUES)
    assert [line.status for line in plan.lines] == ["kept"] * 3
    assert plan.pinned == PARTS and plan.moved == () and plan.to_voice() == ()


def test_an_edited_cue_drops_its_own_part_only():
    plan = _plan((CUES[0], Cue(3000, 4500, "Deux et demi."), CUES[2]))
    assert [line.status for line in plan.lines] == ["kept", "re-voiced", "kept"]
    assert plan.pinned == (PARTS[0], PARTS[2])
    assert [line.number for line in plan.to_voice()] == [2]


def test_a_moved_cue_moves_its_parts_and_its_end():
    plan = _plan((CUES[0], CUES[1], Cue(5300, 6800, "Trois.")))
    assert [line.status for line in plan.lines] == ["kept", "kept", "re-timed"]
    (clip,) = plan.moved
    assert (clip.index, clip.onset_ms, clip.length_ms, clip.end_ms) == (1, 5300, 1400, 6700)
    assert plan.to_voice() == ()


def test_a_cue_spoken_inside_an_edited_cues_part_is_voiced_again():
    # one part over both cues (its clip had no pause to cut at): the second cue owns no speech of its own
    whole = Placement(0, 1000, 4400, 4900, 3400, 1.0, 0)
    earlier = EarlierDub(CUES[:2], (whole,))
    given = (Cue(1000, 2500, "Un, autrement."), CUES[1])
    plan = plan_voicing(given, match_cues(given, CUES[:2]), earlier)
    assert [line.status for line in plan.lines] == ["re-voiced", "re-voiced"]
    # but kept when the part that speaks it stays
    plan = plan_voicing(CUES[:2], match_cues(CUES[:2], CUES[:2]), earlier)
    assert [line.status for line in plan.lines] == ["kept", "kept"]


def test_without_an_earlier_dub_every_line_is_voiced():
    plan = plan_voicing(CUES, match_cues(CUES, ()), None)
    assert [line.status for line in plan.lines] == ["voiced"] * 3 and plan.pinned == ()
