"""Loudness (EBU R128) for the dub: the original's, measured on the decoded analysis audio, each dub clip's,
measured as it arrives, and the finished dub track's, measured as its encoder is fed, all in memory by
libebur128 (the reference implementation, through pyebur128); the gain that brings a clip to the
original's loudness under a sample-peak ceiling; and the parser of ffmpeg's ``ebur128`` summary (the
tests' independent reference).

Sample peak rather than true peak: it can sit up to about half a dB under the true peak; the ceiling
below keeps more headroom than that, which lossy encoders need anyway.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterable

import numpy as np

from dubber.errors import ToolError
from dubber.models import Loudness
from dubber.speech.frames import Samples

FALLBACK_LUFS = -23.0  # EBU R128's programme target, for an original too quiet to measure
PEAK_CEILING = -1.5  # dBFS (sample peak) the matched dub may reach: headroom for lossy encoders

_NUMBER = r"(-?inf|nan|-?\d+(?:\.\d+)?)"
_SUMMARY = re.compile(rf"Integrated loudness:\s+I:\s+{_NUMBER} LUFS\s+Threshold:\s+{_NUMBER} LUFS\s+"
                      rf"Loudness range:\s+LRA:\s+{_NUMBER} LU.*?Sample peak:\s+Peak:\s+{_NUMBER} dBFS", re.S)


def parse_measurement(log_text: str) -> Loudness | None:
    """The figures ``ebur128`` printed in ffmpeg's log (its summary); None when the audio is too quiet to
    measure (silence, or below the -70 LUFS gate)."""
    found = _SUMMARY.findall(log_text)
    if not found:
        raise ToolError("ffmpeg printed no loudness measurement")
    integrated, threshold, lra, peak = (float(v) for v in found[-1])
    if not all(math.isfinite(v) for v in (integrated, threshold, peak)) or integrated <= -70:
        return None
    return Loudness(integrated, peak, lra if math.isfinite(lra) else 0.0, threshold)


def _meter(blocks: Iterable[np.ndarray], rate: int, modes: int) -> tuple[Any, int]:
    """libebur128 (the reference implementation, through pyebur128) fed mono PCM16 ``blocks``; and the
    samples it was fed."""
    import pyebur128  # a dub's only: other commands need not load it

    state, count = pyebur128.R128State(1, rate, modes), 0
    for block in blocks:
        if len(block):
            state.add_frames(np.ascontiguousarray(block, dtype=np.int16), len(block))
            count += len(block)
    return state, count


def samples_loudness(samples: np.ndarray, rate: int, channels: int = 1) -> tuple[float, float] | None:
    """``(integrated LUFS, sample peak dBFS)`` of mono PCM16 ``samples`` as heard on ``channels`` identical
    channels (a mono dub panned to both sides of a stereo mix sums to 3 dB louder); None when the clip is
    too short to measure (under 50 ms) or under R128's -70 LUFS gate. A clip shorter than R128's 400 ms
    block is measured whole, ungated."""
    if len(samples) < rate // 20:
        return None
    import pyebur128

    modes = pyebur128.MeasurementMode
    state, count = _meter([samples], rate, modes.MODE_I | modes.MODE_SAMPLE_PEAK)
    lufs = pyebur128.get_loudness_global(state)
    if count < rate * 4 // 10:
        lufs = pyebur128.get_loudness_window(state, count * 1000 // rate)
    return _heard(lufs, pyebur128.get_sample_peak(state, 0), channels)


class TrackMeter:
    """EBU R128 figures of a mono track fed a block at a time (PCM16, or float in [-1, 1]), as heard on
    ``channels`` identical channels: the original as the dub reads it, and the dub as its encoder is fed it
    (measured here rather than by an ``ebur128`` branch in the encoder's graph: see ``build_encode_graph``)."""

    def __init__(self, rate: int, channels: int = 1) -> None:
        import pyebur128  # a dub's only: other commands need not load it

        modes = pyebur128.MeasurementMode
        self.channels = channels
        self._state = pyebur128.R128State(1, rate, modes.MODE_I | modes.MODE_LRA | modes.MODE_SAMPLE_PEAK
                                          | modes.MODE_HISTOGRAM)

    def add(self, block: np.ndarray) -> None:
        if len(block):
            dtype = np.int16 if block.dtype == np.int16 else np.float64
            self._state.add_frames(np.ascontiguousarray(block, dtype=dtype), len(block))

    def result(self) -> Loudness | None:
        """The figures so far; None when too quiet to measure."""
        import pyebur128

        state = self._state
        heard = _heard(pyebur128.get_loudness_global(state), pyebur128.get_sample_peak(state, 0), self.channels)
        if heard is None:
            return None
        lra = pyebur128.get_loudness_range(state)
        return Loudness(*heard, lra if math.isfinite(lra) else 0.0,
                        pyebur128.get_relative_threshold(state) + 10 * math.log10(self.channels))


def track_loudness(pcm: Samples, rate: int, channels: int = 1, block_s: int = 60) -> Loudness | None:
    """EBU R128 figures of a whole mono PCM16 track (read ``block_s`` seconds at a time), as heard on
    ``channels``; None when too quiet to measure.

    The dub measures the original on the analysis audio it already holds (16 kHz mono) instead of decoding
    it again: half a second an hour, where ffmpeg's ``ebur128`` on the 48 kHz stereo original took seconds
    before the first clip could be levelled. Centred speech measures the same (within 0.1 LU in the tests);
    a wide stereo bed measures up to 3 dB low in the downmix, under a voice much less."""
    meter = TrackMeter(rate, channels)
    step = rate * block_s
    for k in range(0, len(pcm), step):
        meter.add(pcm[k:k + step])
    return meter.result()


def _heard(lufs: float, peak: float, channels: int) -> tuple[float, float] | None:
    """``(LUFS, sample peak dBFS)`` of a mono measurement as heard on ``channels`` identical channels; None
    under R128's -70 LUFS gate (or silent)."""
    if not math.isfinite(lufs) or lufs <= -70 or peak <= 0:
        return None
    return lufs + 10 * math.log10(channels), 20 * math.log10(peak)


def gain_db(integrated: float, peak: float, target_lufs: float | None) -> float:
    """The one gain that brings a dub (clip) of ``integrated`` LUFS and ``peak`` dBFS to ``target_lufs``
    (R128's -23 when the original could not be measured), lowered where it would lift the peak over the
    ceiling.

    >>> gain_db(-16.0, -6.0, -21.5), gain_db(-30.0, -3.0, -20.0), gain_db(-30.0, -12.0, None)
    (-5.5, 1.5, 7.0)
    """
    target = min(-5.0, max(-70.0, FALLBACK_LUFS if target_lufs is None else target_lufs))
    return round(min(target - integrated, PEAK_CEILING - peak), 2)
