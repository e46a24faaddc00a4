"""Speech detection: where in the track someone is talking, as sorted, disjoint ``Span``s in ms.

Every detector has one shape: turn the PCM into per-frame decisions, then turn the decisions into spans
with the same hysteresis (``_spans_from_frames``):

- ``energy`` (default): the level of each 20 ms frame in 200-8000 Hz (one FFT per frame) against an
  adaptive floor, a rolling low percentile of the levels over 10 s. A music or noise bed raises the floor,
  so it raises the threshold instead of being taken for speech.
- ``webrtc``: Google's WebRTC VAD (a GMM over sub-band energies), per frame, at aggressiveness 3. It needs
  the optional ``webrtcvad-wheels`` package (``pip install "dubber[webrtc]"``).
- ``silero`` and ``ten``: neural models shipped inside their wheels (``dubber.speech.neural``), their
  per-chunk speech probability over ``NeuralTuning.threshold``. Extras ``[silero]`` and ``[ten]``.

``benchmarks/vad_bench.py`` measures them all on speech at known times over music and noise beds; its
table (in its docstring) is why ``energy`` and its tuning are the defaults. With a music bed 15 dB under
the voice, energy's onsets are 34 ms off at the median and 48 ms at p90 (silero 20/48, ten 40/66, webrtc
40/53), and it marks 0.1% of long silences as speech (0.0% silero and ten, 2.2% webrtc); at 10 dB under,
webrtc marks 72% of them. Energy's frame F1 is 0.977-0.982 on every bed (silero 0.966-0.975, ten
0.972-0.978). Energy and webrtc run at thousands of times real time (an hour in 1-2 s); silero runs at
~20x and ten at ~70-100x, too slow for a default that must keep at least 500x.

Memory: the PCM (usually a ``PcmFile``, the whole track on disk) is read ``block_s`` seconds at a time and
only per-frame values are kept for the whole track (one float32 per 20 ms: 720 kB per hour). Blocks hold
whole frames and every detector sees the same frames in the same order, so the result does not depend
on the block size. The band levels are computed once per run: the window planner cuts long speech at
their minimum, and the energy detector takes them as its input (``detect_speech(..., levels=...)``).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from dubber.errors import OptionError
from dubber.models import Span
from dubber.speech.frames import Samples, iter_rows
from dubber.speech import neural

log = logging.getLogger(__name__)

FRAME_MS = 20  # webrtcvad takes 10, 20 or 30 ms; 20 ms resolves onsets well inside the 100 ms we aim for
BLOCK_S = 60.0  # seconds of PCM read and converted at a time
SPEECH_BAND_HZ = (200, 8000)  # below: hum and bass lines; 4-8 kHz holds the fricatives (s, f, th)
SILENCE_DB = -120.0  # the level reported for digital silence (log of zero)
WEBRTC_RATES = (8000, 16000, 32000, 48000)

# pcm, rate, tuning, block seconds, precomputed band levels (or None) -> one bool per frame: voiced
_Detector = Callable[[Samples, int, "Hysteresis", float, "np.ndarray | None"], np.ndarray]


@dataclass(frozen=True)
class Hysteresis:
    """How per-frame decisions become spans; shared by every detector.

    A span starts once ``start_ratio`` of the frames in a ``start_ms`` ring are voiced (a lone voiced
    frame, e.g. a drum hit, starts nothing), at the start of the unbroken voiced run leading into that
    ring, and ends at the last voiced frame before ``hangover_ms`` of unvoiced audio: pauses between
    words (up to ~250 ms) never split a span. Splitting at pauses is ``dubber.windows``' job.
    """

    start_ms: int = 100
    start_ratio: float = 0.6
    hangover_ms: int = 300
    pad_ms: int = 40  # soft onsets and final consonants fall below any threshold
    min_span_ms: int = 150  # shorter bursts are clicks, not words


@dataclass(frozen=True)
class WebrtcTuning(Hysteresis):
    aggressiveness: int = 3  # 0-3; 3 rejects the most music (see the benchmark) and still finds all speech


@dataclass(frozen=True)
class EnergyTuning(Hysteresis):
    """A frame is voiced ``margin_db`` above the floor: the ``floor_percentile`` of frame levels in a
    centred ``floor_window_ms`` window. (A higher margin to start than to stay made no difference in the
    benchmark: the ring in ``Hysteresis`` already keeps music peaks from starting spans.)"""

    floor_window_ms: int = 10000
    floor_percentile: float = 10.0
    margin_db: float = 8.0
    min_level_db: float = -60.0  # absolute threshold: over digital silence the floor means nothing
    band_hz: tuple[int, int] = SPEECH_BAND_HZ


@dataclass(frozen=True)
class NeuralTuning(Hysteresis):
    """A frame is voiced when the model's speech probability under its centre is over ``threshold``."""

    # Over the models' own 0.5: under music their probability stays up between sentences; at 0.7 neither
    # runs through a 0.5 s pause or marks long silence in the benchmark (at 0.5 both do, now and then).
    threshold: float = 0.7


def frame_len(rate: int) -> int:
    """Samples per analysis frame at ``rate``."""
    if rate <= 0 or rate * FRAME_MS % 1000:
        raise ValueError(f"sample rate {rate} Hz does not divide into {FRAME_MS} ms frames")
    return rate * FRAME_MS // 1000


def iter_frames(pcm: Samples, rate: int, block_s: float = BLOCK_S) -> Iterator[np.ndarray]:
    """Yield the track as int16 arrays of whole frames, shape ``(frames, frame_len)``, one block at a time.

    The last frame is zero-padded, so there are ``ceil(len(pcm) / frame_len)`` frames in all.
    """
    yield from iter_rows(pcm, frame_len(rate), int(block_s * rate))


def frame_levels(pcm: Samples, rate: int, *, band_hz: tuple[int, int] = SPEECH_BAND_HZ,
                 block_s: float = BLOCK_S) -> np.ndarray:
    """Level of each ``FRAME_MS`` frame in ``band_hz``, in dB relative to full scale (float32).

    Frame ``i`` covers ``[i * FRAME_MS, (i + 1) * FRAME_MS)`` ms. The band leaves out hum and bass lines,
    so its minimum is a better place to cut speech than the broadband minimum, and it keeps the
    fricatives (4-8 kHz): the benchmark's recall under music is higher than with 200-4000 Hz.
    """
    size = frame_len(rate)
    window = np.hanning(size).astype(np.float32)
    freqs = np.fft.rfftfreq(size, 1 / rate)
    band = slice(int(np.searchsorted(freqs, band_hz[0])), int(np.searchsorted(freqs, band_hz[1], side="right")))
    # Parseval: twice the one-sided band power over N * sum(w^2) is the band's mean square.
    scale = 2.0 / (size * float(np.sum(window**2)) * 32768.0**2)
    parts = []
    for frames in iter_frames(pcm, rate, block_s):
        spectrum = np.fft.rfft(frames.astype(np.float32) * window, axis=1)[:, band]
        power = (spectrum.real**2 + spectrum.imag**2).sum(axis=1) * scale
        parts.append(np.maximum(10.0 * np.log10(np.maximum(power, 1e-30)), SILENCE_DB).astype(np.float32))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def rolling_floor(levels: np.ndarray, window: int, percentile: float) -> np.ndarray:
    """The ``percentile`` of ``levels`` in a centred ``window`` of frames, for every frame.

    Computed every ``window // 8`` frames and interpolated between: the floor of a music bed moves over
    seconds, and this keeps an hour's floor to a few thousand percentile calls.
    """
    if len(levels) == 0:
        return np.zeros(0, dtype=np.float32)
    hop, half = max(1, window // 8), max(1, window // 2)
    centres = np.arange(0, len(levels) + hop - 1, hop).clip(max=len(levels) - 1)
    values = [np.percentile(levels[max(0, c - half):c + half + 1], percentile) for c in centres]
    return np.interp(np.arange(len(levels)), centres, values).astype(np.float32)


def _energy_frames(pcm: Samples, rate: int, tuning: EnergyTuning, block_s: float,
                   levels: np.ndarray | None) -> np.ndarray:
    if levels is None or tuning.band_hz != SPEECH_BAND_HZ:
        levels = frame_levels(pcm, rate, band_hz=tuning.band_hz, block_s=block_s)
    floor = rolling_floor(levels, max(1, tuning.floor_window_ms // FRAME_MS), tuning.floor_percentile)
    return levels > np.maximum(floor + tuning.margin_db, tuning.min_level_db)


def _webrtc_frames(pcm: Samples, rate: int, tuning: WebrtcTuning, block_s: float,
                   levels: np.ndarray | None) -> np.ndarray:
    if rate not in WEBRTC_RATES:
        raise ValueError(f"webrtcvad needs one of {WEBRTC_RATES} Hz, not {rate}")
    try:
        import webrtcvad  # optional: only this detector needs it
    except ImportError:
        raise OptionError('the webrtc speech detector needs the webrtcvad-wheels package: '
                          'pip install "dubber[webrtc]"') from None
    vad = webrtcvad.Vad(tuning.aggressiveness)  # one instance: its noise model adapts across blocks
    parts = []
    for frames in iter_frames(pcm, rate, block_s):
        data = frames.astype("<i2", copy=False).tobytes()
        step = frames.shape[1] * 2
        voiced = (vad.is_speech(data[i:i + step], rate) for i in range(0, len(data), step))
        parts.append(np.fromiter(voiced, dtype=bool, count=len(frames)))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _neural(name: str) -> _Detector:
    """The detector for ``neural.MODELS[name]``: its per-chunk probabilities, on our frames, thresholded."""
    chunk, probabilities = neural.MODELS[name]

    def frames(pcm: Samples, rate: int, tuning: NeuralTuning, block_s: float,
               levels: np.ndarray | None) -> np.ndarray:
        size = frame_len(rate)
        probs = neural.frame_probabilities(probabilities(pcm, rate, block_s), chunk, size, -(-len(pcm) // size))
        return probs > tuning.threshold

    return frames


def _spans_from_frames(voiced: np.ndarray, h: Hysteresis, duration_ms: int) -> tuple[Span, ...]:
    """Turn per-frame decisions into spans with ``h``.

    Vectorised, and equivalent to the usual ring-buffer state machine: voiced frames joined across gaps
    shorter than the hangover form clusters; a cluster with a trigger (a ring ``start_ratio`` voiced) is
    speech from the start of the unbroken voiced run that leads into its first trigger (soft onsets pass
    the threshold before enough frames do to trigger) to its last voiced frame.
    """
    on = np.flatnonzero(voiced)
    if len(on) == 0:
        return ()
    ring = max(1, min(h.start_ms, h.hangover_ms) // FRAME_MS)
    counts = np.convolve(voiced.astype(int), np.ones(ring, dtype=int))[:len(voiced)]
    triggers = np.flatnonzero(counts >= max(1, math.ceil(h.start_ratio * ring)))
    steps = np.diff(on)
    run_firsts = on[np.concatenate([[0], np.flatnonzero(steps > 1) + 1])]
    breaks = np.flatnonzero(steps - 1 >= max(1, math.ceil(h.hangover_ms / FRAME_MS)))
    firsts, lasts = on[np.concatenate([[0], breaks + 1])], on[np.concatenate([breaks, [len(on) - 1]])]
    spans: list[Span] = []
    for first, last in zip(firsts, lasts):
        k = np.searchsorted(triggers, first)
        if k == len(triggers) or triggers[k] > last:
            continue
        ring_first = on[np.searchsorted(on, max(first, triggers[k] - ring + 1))]
        begin = int(run_firsts[np.searchsorted(run_firsts, ring_first, side="right") - 1])
        if (int(last) + 1 - begin) * FRAME_MS < h.min_span_ms:
            continue
        _append_merged(spans, Span(max(0, begin * FRAME_MS - h.pad_ms),
                                   min(duration_ms, (int(last) + 1) * FRAME_MS + h.pad_ms)))
    return tuple(s for s in spans if s.end_ms > s.start_ms)


def _append_merged(spans: list[Span], span: Span) -> None:
    if spans and span.start_ms <= spans[-1].end_ms:
        spans[-1] = Span(spans[-1].start_ms, max(spans[-1].end_ms, span.end_ms))
    else:
        spans.append(span)


_DETECTORS: dict[str, tuple[type[Hysteresis], _Detector]] = {
    "energy": (EnergyTuning, _energy_frames),
    "webrtc": (WebrtcTuning, _webrtc_frames),
    "silero": (NeuralTuning, _neural("silero")),
    "ten": (NeuralTuning, _neural("ten")),
}
METHODS: tuple[str, ...] = tuple(_DETECTORS)
DEFAULT_METHOD = "energy"


def detect_speech(pcm: Samples, rate: int, method: str = DEFAULT_METHOD, *, block_s: float = BLOCK_S,
                  levels: np.ndarray | None = None, **tuning: object) -> tuple[Span, ...]:
    """Speech in ``pcm`` (mono int16 at ``rate``) as sorted, disjoint spans clipped to the track.

    ``levels``: ``frame_levels(pcm, rate)`` when the caller has them already (they are not computed again).

    ``tuning`` overrides fields of the method's tuning class (``EnergyTuning``, ``WebrtcTuning`` or
    ``NeuralTuning``, which share ``Hysteresis``), e.g. ``detect_speech(pcm, 16000, "webrtc", aggressiveness=2, pad_ms=60)``.
    """
    try:
        tuning_class, frames = _DETECTORS[method]
    except KeyError:
        raise OptionError(f"unknown speech detector {method!r}; choose one of {', '.join(METHODS)}") from None
    try:
        params = tuning_class(**tuning)
    except TypeError as exc:
        raise OptionError(f"bad tuning for the {method} speech detector: {exc}") from exc
    voiced = frames(pcm, rate, params, block_s, levels)
    spans = _spans_from_frames(voiced, params, len(pcm) * 1000 // rate)
    log.debug("%s: %d speech spans, %.1f s of speech", method, len(spans),
              sum(s.duration_ms for s in spans) / 1000)
    return spans
