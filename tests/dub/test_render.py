"""Rendering the fitted parts: each part's own samples, at its own place on the track, each window's clip at
the original's loudness (real files; the sped-up case runs the real ffmpeg; loudness read back by ffmpeg's
ebur128)."""
from __future__ import annotations

import doctest

import numpy as np

from dubber.dub import render
from dubber.dub.clips import ClipSpool
from dubber.dub.duck import DuckOptions, duck_spans, envelope
from dubber.dub.render import DUB_RATE, EDGE_MS, PER_MS, TrackRender
from dubber.dub.timeline import FitOptions, fit_timeline
from dubber.media.audio import raw_input_args
from tests.support.loudness import measure_loudness
from tests.support.ffmpeg import stretch
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


def _render(plan, spool, total_ms, duck=None, target=None) -> np.ndarray:
    """The whole track as the encoder is fed it: frames of (dub, original's gain)."""
    render = TrackRender(spool, 40, stretch(), duck, lambda: target)
    chunks = []
    for placement in plan:
        chunks += render.add(placement)
    chunks += render.take(total_ms)
    return np.frombuffer(b"".join(chunks), dtype="<f4").reshape(-1, 2)


def _one_gain(played: np.ndarray, source: np.ndarray) -> float:
    """The gain that best maps ``source`` onto ``played``, checked to map it exactly (one gain, no shift)
    but for the few-ms ramps at the part's two ends, which fade it from and to silence."""
    edge = EDGE_MS * DUB_RATE // 1000
    gain = float(played[edge:-edge] @ source[edge:-edge] / (source[edge:-edge] @ source[edge:-edge]))
    assert np.allclose(played[edge:-edge], source[edge:-edge] * gain, atol=2e-4), \
        "not the source's samples under one gain"
    assert abs(played[0]) <= abs(source[0] * gain) / edge + 2e-4 and abs(played[-1]) <= abs(source[-1] * gain) / edge + 2e-4
    return gain


def test_each_part_plays_its_own_samples_at_its_phrase(tmp_path):
    clip = _tone_words([800, 700, 900])
    speech = (Span(1000, 2500), Span(4000, 5500), Span(7000, 8000))  # three phrases
    spool, plan = _spool_and_fit(tmp_path, speech, clip, 10_000)
    assert [p.start_ms for p in plan] == [1000, 4000, 7000] and all(p.speed == 1.0 for p in plan)
    frames = _render(plan, spool, 10_000)
    track = frames[:, 0]
    assert len(track) == 10_000 * PER_MS and np.all(frames[:, 1] == 0)  # replace: the original is muted
    trimmed = np.fromfile(spool.clips[0].path, dtype="<i2") / 32768.0
    gains = []
    for p in plan:
        played = track[p.start_ms * PER_MS:p.end_ms * PER_MS]
        gains.append(_one_gain(played, trimmed[p.offset_ms * PER_MS:(p.offset_ms + p.played_ms) * PER_MS]))
    assert max(gains) - min(gains) < 1e-4  # one window: one gain for all its parts
    sounding = np.zeros(len(track), dtype=bool)
    for p in plan:
        sounding[p.start_ms * PER_MS:p.end_ms * PER_MS] = True
    assert not np.any(track[~sounding])  # silence everywhere else: the pauses between parts are dropped


def test_each_clip_is_brought_to_the_originals_loudness_and_the_duck_follows_the_dub(tmp_path):
    loud, soft = _tone_words([1500]), (_tone_words([1500]) * 0.1).astype(np.int16)  # 20 dB apart
    spool = ClipSpool(tmp_path / "clips")
    for k, (clip, start) in enumerate([(loud, 1000), (soft, 5000)]):
        window = Window(k, start - 200, start + 2000, (Span(start, start + 1800),))
        spool.add(Translation(window, TranslationResult("Eins.", clip.tobytes())))
    plan = fit_timeline([c for s in spool.clips.values() for c in s.parts], 9000, FitOptions())
    duck = DuckOptions()
    frames = _render(plan, spool, 9000, duck, target=-24.0)
    for p in plan:  # measured apart, by ffmpeg: each clip at the target, whatever its own level
        pcm = tmp_path / f"clip{p.index}.pcm"
        (frames[p.start_ms * PER_MS:p.end_ms * PER_MS, 0] * 32768).astype("<i2").tofile(pcm)
        assert abs(measure_loudness(raw_input_args(pcm, DUB_RATE)).integrated + 24.0) < 0.5
    expected = np.repeat(envelope(duck_spans(plan, duck), 0, 9000, duck), PER_MS)
    assert np.array_equal(frames[:, 1], expected)


def test_a_sped_up_part_is_stretched_from_its_own_range(tmp_path):
    clip = _tone_words([1800, 1500])
    speech = (Span(1000, 2000), Span(2600, 4000))  # the first phrase's slot (1500 ms) is short of its part
    spool, plan = _spool_and_fit(tmp_path, speech, clip, 6000)
    assert plan[0].speed > 1.0 and plan[0].end_ms <= 2600 - 100
    track = _render(plan, spool, 6000)[:, 0].astype(np.float64)
    first = track[plan[0].start_ms * PER_MS:plan[0].end_ms * PER_MS]
    spectrum = np.abs(np.fft.rfft(first))
    assert abs(np.argmax(spectrum) * DUB_RATE / len(first) - 200) < 10  # the first word's pitch only
    assert np.sqrt(np.mean(first[len(first) // 4:-len(first) // 4] ** 2)) > 0.03  # sounding throughout


def test_doctests():
    result = doctest.testmod(render)
    assert result.attempted > 0 and result.failed == 0, result  # no example at all would pass unseen
