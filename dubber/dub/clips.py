"""Each window's translated speech as a clip: trimmed of its silence, spooled to its own file as it
arrives (so no clip outlives its window's turn in memory), split into parts on the window's utterances
(``dubber.dub.phrases``) at the pauses found in it then (or, short of pauses, at its quietest frames),
and the pure sample maths on one clip."""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.dub.phrases import FRAME_MS, window_parts
from dubber.dub.timeline import Clip
from dubber.media.loudness import samples_loudness
from dubber.models import Span, Translation
from dubber.speech.vad import detect_speech

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spooled:
    """One window's trimmed speech on disk, at its own sample rate, and where it speaks inside the clip
    (clip-local ms; empty unless the spool was asked to find it). ``parts`` are what the timeline fits:
    the clip cut on the window's utterances (just ``clip`` when the window holds one)."""

    clip: Clip
    path: Path
    rate: int
    speech: tuple[Span, ...] = ()
    parts: tuple[Clip, ...] = ()
    level: tuple[float, float] | None = None  # (integrated LUFS, sample peak dBFS) as the mix hears it


class ClipSpool:
    """Keeps each window's trimmed speech in a file of its own, and cuts it into parts on the window's
    utterances (its speech spans) at the pauses found in it on arrival (``dubber.dub.phrases``). With ``find_speech``, each
    clip's speech spans are found once, as it arrives (``--timing dub`` times the subtitles to them). Each
    clip's loudness is measured as it arrives, as heard on ``channels`` (the mix's: a mono clip on both
    sides of a stereo mix sounds 3 dB louder)."""

    def __init__(self, folder: Path, find_speech: bool = False, channels: int = 1) -> None:
        self.folder = folder
        self.channels = channels
        self.folder.mkdir(parents=True, exist_ok=True)
        self.find_speech = find_speech
        self.clips: dict[int, Spooled] = {}
        self._seen: set[int] = set()

    def add(self, translation: Translation) -> Spooled | None:
        """Trim the translation's speech and store it (once per window); None when it has no speech."""
        result, window = translation.result, translation.window
        if window.index in self._seen:
            return self.clips.get(window.index)
        self._seen.add(window.index)
        samples = np.frombuffer(result.audio_pcm, dtype="<i2")
        first, end = voiced_bounds(samples, result.audio_rate)
        if end <= first:
            if result.text:
                log.warning("window %d: the service sent text but no speech; it is subtitled, not dubbed",
                            window.index)
            return None
        path = self.folder / f"{window.index:05d}.pcm"
        samples[first:end].tofile(path)
        onset = window.speech[0].start_ms if window.speech else window.start_ms
        length_ms = int(-(-(end - first) * 1000 // result.audio_rate))  # ceil: never outgrows its plan
        clip = samples[first:end]
        speech = detect_speech(clip, result.audio_rate) if self.find_speech else ()
        runs = voiced_runs(clip, result.audio_rate)
        parts = window_parts(window, length_ms, runs, frame_levels(clip, result.audio_rate, FRAME_MS))
        level = samples_loudness(clip, result.audio_rate, self.channels)
        spooled = Spooled(Clip(window.index, onset, length_ms), path, result.audio_rate, speech, parts, level)
        log.debug("window %d: %d ms of dub in %d parts (clip ms: %s)", window.index, length_ms, len(parts),
                  ", ".join(f"{c.offset_ms}-{c.offset_ms + c.length_ms} at {c.onset_ms}" for c in parts))
        self.clips[window.index] = spooled
        return spooled


def frame_levels(samples: np.ndarray, rate: int, frame_ms: int = 10) -> np.ndarray:
    """The RMS level (dBFS) of each ``frame_ms`` frame of int16 ``samples``, the last one padded with silence.

    >>> frame_levels(np.full(240, 16384, dtype=np.int16), 24000).round(1).tolist()
    [-6.0]
    """
    return _levels(samples, max(1, rate * frame_ms // 1000))


def _levels(samples: np.ndarray, frame: int) -> np.ndarray:
    count = math.ceil(len(samples) / frame)
    padded = np.zeros(count * frame)
    padded[:len(samples)] = samples
    rms = np.sqrt(np.mean((padded.reshape(count, frame) / 32768.0) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def _loud_frames(samples: np.ndarray, frame: int, floor_db: float, below_peak_db: float) -> np.ndarray:
    """Indices of the ``frame``-sample frames that are sound (the rule in ``voiced_bounds``)."""
    if len(samples) == 0:
        return np.zeros(0, dtype=np.int64)
    level = _levels(samples, frame)
    if level.max() < floor_db:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(level >= max(floor_db, level.max() - below_peak_db))


def voiced_bounds(samples: np.ndarray, rate: int, floor_db: float = -50.0, below_peak_db: float = 40.0,
                  frame_ms: int = 10, margin_ms: int = 10) -> tuple[int, int]:
    """``(first, end)`` sample indices of a clip's sound: its leading and trailing silence trimmed.

    A 10 ms frame is sound when louder than ``floor_db`` dBFS and no more than ``below_peak_db`` under the
    clip's loudest frame; ``margin_ms`` is kept either side so soft consonants are not clipped.
    """
    frame = max(1, rate * frame_ms // 1000)
    loud = _loud_frames(samples, frame, floor_db, below_peak_db)
    if len(loud) == 0:
        return 0, 0
    margin = rate * margin_ms // 1000
    return max(0, loud[0] * frame - margin), min(len(samples), (loud[-1] + 1) * frame + margin)


def voiced_runs(samples: np.ndarray, rate: int, min_pause_ms: int = 40, floor_db: float = -50.0,
                below_peak_db: float = 40.0, frame_ms: int = 10, margin_ms: int = 10) -> tuple[Span, ...]:
    """A clip's sound as runs (ms, clip-local) separated by pauses of at least ``min_pause_ms``: where the
    clip is cut into parts (inside a run only when its pauses are too few, or too far from where the
    utterances' shares end: ``dubber.dub.phrases``). Sound is judged as in ``voiced_bounds``, and each run
    keeps ``margin_ms`` either side; silences too short to leave ``min_pause_ms`` between the margins stay
    inside a run.

    ``min_pause_ms=40`` (60 ms of silent frames with the margins): low enough to find the gaps a speech
    service leaves between words (the emulator's are 60-140 ms), while the shorter silences inside words
    (most stop consonants' closures) are never cut points.
    """
    frame = max(1, rate * frame_ms // 1000)
    loud = _loud_frames(samples, frame, floor_db, below_peak_db)
    if len(loud) == 0:
        return ()
    bridge = math.ceil((min_pause_ms + 2 * margin_ms) / frame_ms)  # silent frames that make a pause
    breaks = np.flatnonzero(np.diff(loud) > bridge)
    firsts, lasts = np.concatenate([[0], breaks + 1]), np.concatenate([breaks, [len(loud) - 1]])
    total_ms = len(samples) * 1000 // rate
    return tuple(Span(max(0, int(loud[a]) * frame_ms - margin_ms),
                      min(total_ms, (int(loud[b]) + 1) * frame_ms + margin_ms)) for a, b in zip(firsts, lasts))


def fit_samples(samples: np.ndarray, count: int, fade: int = 0) -> np.ndarray:
    """Exactly ``count`` int16 samples: ``samples`` padded with silence, or cut, ending in a ``fade``-sample
    fade-out (pass 0 when the cut only trims a time stretch's rounding)."""
    if len(samples) <= count:
        return np.concatenate([samples, np.zeros(count - len(samples), dtype=samples.dtype)]).astype("<i2")
    out = samples[:count].astype(np.float64)
    n = min(fade, count)
    if n > 0:
        out[count - n:] *= np.linspace(1.0, 0.0, n)
    return np.round(out).astype("<i2")
