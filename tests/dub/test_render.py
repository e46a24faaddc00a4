"""Rendering the fitted parts: each part's own samples, at its own place on the track (real files; the
sped-up case runs the real ffmpeg)."""
from __future__ import annotations

import doctest

import numpy as np

from dubber.dub import render
from dubber.dub.clips import ClipSpool
from dubber.dub.render import DUB_RATE, PER_MS, render_dub
from dubber.dub.timeline import FitOptions, fit_timeline
from dubber.media.stretch import stretch_method
from dubber.models import Span, Translation, TranslationResult, Window


def _tone_words(words_ms: list[int], gap_ms: int = 150) -> np.ndarray:
    """Words of rising pitch (each one told apart by its own frequency), ``gap_ms`` of silence between."""
    pieces = []
    for i, word_ms in enumerate(words_ms):
        n = DUB_RATE * word_ms // 1000
        pieces += [(8000 * np.sin(np.arange(n) * 2 * np.pi * (200 + 100 * i) / DUB_RATE)).astype(np.int16),
                   np.zeros(DUB_RATE * gap_ms // 1000, np.int16)]
    return np.concatenate(pieces[:-1])


def _spool_and_fit(tmp_path, speech: tuple[Span, ...], clip: np.ndarray, duration_ms: int):
    spool = ClipSpool(tmp_path / "clips")
    spool.add(Translation(Window(0, 0, duration_ms, speech), TranslationResult("Eins. Zwei.", clip.tobytes())))
    return spool, fit_timeline(spool.clips[0].parts, duration_ms, FitOptions())


def test_each_part_plays_its_own_samples_at_its_phrase(tmp_path):
    clip = _tone_words([800, 700, 900])
    speech = (Span(1000, 2500), Span(4000, 5500), Span(7000, 8000))  # three phrases
    spool, plan = _spool_and_fit(tmp_path, speech, clip, 10_000)
    assert [p.start_ms for p in plan] == [1000, 4000, 7000] and all(p.speed == 1.0 for p in plan)
    render_dub(plan, spool, tmp_path / "dub.pcm", 10_000, 40, stretch_method())
    track = np.fromfile(tmp_path / "dub.pcm", dtype="<i2")
    assert len(track) == 10_000 * PER_MS
    trimmed = np.fromfile(spool.clips[0].path, dtype="<i2")
    for p in plan:
        played = track[p.start_ms * PER_MS:p.end_ms * PER_MS]
        source = trimmed[p.offset_ms * PER_MS:(p.offset_ms + p.played_ms) * PER_MS]
        assert np.array_equal(played, source)
    sounding = np.zeros(len(track), dtype=bool)
    for p in plan:
        sounding[p.start_ms * PER_MS:p.end_ms * PER_MS] = True
    assert not np.any(track[~sounding])  # silence everywhere else: the pauses between parts are dropped


def test_a_sped_up_part_is_stretched_from_its_own_range(tmp_path):
    clip = _tone_words([1800, 1500])
    speech = (Span(1000, 2000), Span(2600, 4000))  # the first phrase's slot (1500 ms) is short of its part
    spool, plan = _spool_and_fit(tmp_path, speech, clip, 6000)
    assert plan[0].speed > 1.0 and plan[0].end_ms <= 2600 - 100
    render_dub(plan, spool, tmp_path / "dub.pcm", 6000, 40, stretch_method())
    track = np.fromfile(tmp_path / "dub.pcm", dtype="<i2").astype(np.float64)
    first = track[plan[0].start_ms * PER_MS:plan[0].end_ms * PER_MS]
    spectrum = np.abs(np.fft.rfft(first))
    assert abs(np.argmax(spectrum) * DUB_RATE / len(first) - 200) < 10  # the first word's pitch only
    assert np.sqrt(np.mean(first[len(first) // 4:-len(first) // 4] ** 2)) > 2000  # sounding throughout


def test_doctests():
    assert doctest.testmod(render).failed == 0
