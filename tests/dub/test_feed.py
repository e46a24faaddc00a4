"""The dub fed to its encoder while answers arrive: whatever order the windows are answered in, the feed
is byte for byte the track rendered from the whole plan at once (real clips on disk; sped-up ones run the
real ffmpeg)."""
from __future__ import annotations

import random

import numpy as np
import pytest

from dubber.dub.clips import ClipSpool
from dubber.dub.duck import DuckOptions
from dubber.dub.feed import DubFeed, Settler
from dubber.dub.render import DUB_RATE, PER_MS, TrackRender
from dubber.dub.timeline import Clip, FitOptions, fit_timeline
from tests.support.ffmpeg import stretch
from dubber.models import Span, Translation, TranslationResult, Window

DURATION = 40_000


def _windows_and_answers(seed: int) -> tuple[list[Window], list[Translation]]:
    """Windows 1-3 s apart; answers of tone words, some longer than their slot, one with no speech."""
    rng = np.random.default_rng(seed)
    windows, answers, cursor = [], [], 500
    for k in range(14):
        speech = rng.integers(800, 2500)
        window = Window(k, cursor - 200, cursor + speech + 200, (Span(cursor, cursor + speech),))
        words = [] if k == 5 else [int(rng.integers(400, 1100)) for _ in range(int(rng.integers(1, 4)))]
        pieces = []
        for i, word in enumerate(words):
            n = DUB_RATE * word // 1000
            level = 2000 + 1000 * (k % 4)  # clips at different levels: each gets its own gain
            pieces += [(level * np.sin(np.arange(n) * 2 * np.pi * (180 + 40 * i) / DUB_RATE)).astype(np.int16),
                       np.zeros(DUB_RATE // 10, np.int16)]
        audio = np.concatenate(pieces[:-1]).tobytes() if pieces else b""
        windows.append(window)
        answers.append(Translation(window, TranslationResult("Ein Satz.", audio)))
        cursor += speech + int(rng.integers(300, 1200))
    return windows, answers


def _whole(tmp_path, answers, duck) -> bytes:
    """The track from the whole plan at once: every clip placed before any of it is taken."""
    spool = ClipSpool(tmp_path / "whole")
    for answer in answers:
        spool.add(answer)
    render = TrackRender(spool, 40, stretch(), duck, lambda: -20.0)
    plan = fit_timeline([c for s in spool.clips.values() for c in s.parts], DURATION, FitOptions())
    assert sum(p.speed > 1 for p in plan) >= 4  # runs of sped-up clips, which settle only together
    for placement in plan:
        render.place(placement)
    return b"".join(render.take(DURATION + 1000))


@pytest.mark.parametrize("duck", [DuckOptions(), None], ids=["duck", "replace"])
def test_the_feed_is_the_whole_plans_track_whatever_order_the_answers_come_in(tmp_path, duck):
    windows, answers = _windows_and_answers(seed=3)
    expected = _whole(tmp_path, answers, duck)
    assert len(expected) == (DURATION + 1000) * PER_MS * 2 * 4
    for trial, order in enumerate([list(range(len(answers))), list(reversed(range(len(answers)))),
                                   random.Random(7).sample(range(len(answers)), len(answers))]):
        spool = ClipSpool(tmp_path / f"spool{trial}")
        settler, fed = Settler(windows, DURATION, FitOptions()), []
        feed = DubFeed(TrackRender(spool, 40, stretch(), duck, lambda: -20.0), fed.append)
        for k in order:
            spooled = spool.add(answers[k])
            feed.push(*settler.arrive(k, spooled.parts if spooled else ()))
        feed.close(DURATION + 1000)
        assert b"".join(fed) == expected, order
        assert settler.plan() == fit_timeline([c for s in spool.clips.values() for c in s.parts], DURATION,
                                              FitOptions())


def test_the_settler_waits_for_a_gap_in_the_answers_and_names_where_the_next_clip_may_start():
    windows, _ = _windows_and_answers(seed=3)

    def clip(k: int) -> tuple[Clip, ...]:
        return (Clip(k, windows[k].speech[0].start_ms, 600),)

    settler = Settler(windows, DURATION, FitOptions())
    new, next_start = settler.arrive(1, clip(1))  # window 0 is still out: nothing can settle
    assert new == [] and next_start == windows[0].start_ms
    new, next_start = settler.arrive(0, clip(0))  # 0 and 1 in: 0 settles; 1's slot waits on window 2
    assert [p.index for p in new] == [0] and next_start == windows[1].speech[0].start_ms
    for k in range(2, len(windows) - 1):
        new, next_start = settler.arrive(k, clip(k))
        assert new[-1].index < k and next_start == windows[k].speech[0].start_ms  # the newest one waits
    new, _ = settler.arrive(len(windows) - 1, clip(len(windows) - 1))  # the last answer settles the rest
    assert [p.index for p in new] == [len(windows) - 2, len(windows) - 1] and len(settler.plan()) == len(windows)
    unfinished = Settler(windows[:3], DURATION, FitOptions())
    unfinished.arrive(0, ())
    unfinished.arrive(2, ())
    with pytest.raises(ValueError, match="2 windows have not been answered"):
        unfinished.plan()
