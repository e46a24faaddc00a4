"""Sample maths on one dubbed clip: trimming its silence, finding its pauses and levels, padding or cutting it
to its slot; the spool cutting a clip on its window's utterances."""
from __future__ import annotations

import numpy as np

from dubber.dub.clips import ClipSpool, fit_samples, frame_levels, voiced_bounds, voiced_runs
from dubber.dub.timeline import Clip
from dubber.models import Span, Translation, TranslationResult, Window


def test_voiced_bounds_trim_silence_either_side():
    rate = 24000
    tone = (8000 * np.sin(np.arange(rate) * 2 * np.pi * 200 / rate)).astype(np.int16)
    clip = np.concatenate([np.zeros(rate // 2, np.int16), tone, np.zeros(rate // 4, np.int16)])
    first, end = voiced_bounds(clip, rate)
    assert abs(first - rate // 2) <= rate // 50 and abs(end - (rate // 2 + rate)) <= rate // 50
    assert voiced_bounds(np.zeros(rate, np.int16), rate) == (0, 0)
    assert voiced_bounds(np.zeros(0, np.int16), rate) == (0, 0)


def test_fit_samples_pads_or_cuts_with_a_fade():
    ones = np.full(100, 1000, dtype=np.int16)
    assert len(fit_samples(ones, 150)) == 150 and fit_samples(ones, 150)[120] == 0
    cut = fit_samples(ones, 60, fade=20)
    assert len(cut) == 60 and cut[0] == 1000 and cut[-1] == 0 and cut[39] == 1000
    assert fit_samples(ones, 60)[-1] == 1000


def test_frame_levels_are_each_frames_rms_in_dbfs():
    half = np.full(240, 16384, np.int16)  # 10 ms at 24 kHz, -6 dBFS
    levels = frame_levels(np.concatenate([half, np.zeros(240, np.int16), half[:120]]), 24000)
    assert len(levels) == 3 and round(levels[0], 1) == -6.0 and levels[1] < -150
    assert round(levels[2], 1) == -9.0  # half a frame of sound, padded with silence
    assert len(frame_levels(np.zeros(0, np.int16), 24000)) == 0


def _words(rate: int, layout: list[tuple[int, int]]) -> np.ndarray:
    """A 200 Hz tone in "words": ``[(silence_ms, word_ms), ...]`` in turn."""
    pieces = []
    for silence_ms, word_ms in layout:
        n = rate * word_ms // 1000
        pieces += [np.zeros(rate * silence_ms // 1000, np.int16),
                   (8000 * np.sin(np.arange(n) * 2 * np.pi * 200 / rate)).astype(np.int16)]
    return np.concatenate(pieces)


def test_voiced_runs_part_at_pauses_not_at_short_silences():
    rate = 24000
    # words at 0-400, 430-800 (a 30 ms closure: no pause), 920-1300 (120 ms: a pause), 1800-2000
    clip = _words(rate, [(0, 400), (30, 370), (120, 380), (500, 200)])
    runs = voiced_runs(clip, rate)
    assert [(round(r.start_ms, -1), round(r.end_ms, -1)) for r in runs] == [(0, 810), (910, 1310), (1790, 2000)]
    assert voiced_runs(np.zeros(rate, np.int16), rate) == ()
    # a silence just long enough to leave min_pause_ms between the margins is a pause; shorter is not
    assert len(voiced_runs(_words(rate, [(0, 300), (60, 300)]), rate, min_pause_ms=40)) == 2
    assert len(voiced_runs(_words(rate, [(0, 300), (50, 300)]), rate, min_pause_ms=40)) == 1


def test_spool_cuts_a_clip_on_its_windows_utterances(tmp_path):
    rate = 24000
    clip = _words(rate, [(200, 900), (150, 600), (150, 1200)])  # trimmed: 900, 600, 1200 ms words
    window = Window(4, 800, 6000, (Span(1000, 2000), Span(3000, 5000)))  # utterances of 1 s and 2 s
    spool = ClipSpool(tmp_path)
    spooled = spool.add(Translation(window, TranslationResult("Hallo. Wie geht es?", clip.tobytes(), rate)))
    assert spooled.clip == Clip(4, 1000, 3010)  # from 10 ms before the first word to the end
    # a third of the clip (1003 ms) goes first: the cut is the pause at 910-1060, not the one at 1660-1810
    first, second = spooled.parts
    assert (first.onset_ms, first.offset_ms, second.onset_ms) == (1000, 0, 3000)
    assert 910 <= first.length_ms <= 930 and 1040 <= second.offset_ms <= 1060
    assert second.offset_ms + second.length_ms == 3010


def test_spool_cuts_inside_a_word_at_its_quietest_frame_when_pauses_are_too_few(tmp_path):
    rate = 24000
    clip = _words(rate, [(0, 2000)])  # 2 s with no pause, its level 20 dB down at 1100-1120 ms
    clip[rate * 1100 // 1000:rate * 1120 // 1000] //= 10
    window = Window(0, 0, 4000, (Span(0, 1000), Span(2000, 3000)))  # two utterances of 1 s
    spooled = ClipSpool(tmp_path).add(Translation(window, TranslationResult("Ja. Nein.", clip.tobytes(), rate)))
    first, second = spooled.parts
    assert (first.onset_ms, second.onset_ms) == (0, 2000)
    assert 1100 <= first.length_ms <= 1120 and second.offset_ms == first.length_ms  # a point: nothing lost
    assert second.offset_ms + second.length_ms == spooled.clip.length_ms
