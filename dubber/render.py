"""Render the fitted timeline to disk: the dub track (mono PCM16) and the duck envelope (float32 gains).

Memory stays bounded by one clip: each window's speech is spooled to its own file as it arrives, and
the track is written front to back, silence and clips in turn. Time stretching runs ffmpeg once per
sped-up clip (Rubber Band when the ffmpeg in use has it, else ``atempo``; both keep the pitch).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Sequence

import numpy as np

from dubber import media
from dubber.dubbing import Clip, DuckOptions, Placement, envelope_chunks, fit_samples, voiced_bounds
from dubber.models import Span, Translation

log = logging.getLogger(__name__)

DUB_RATE = 24000  # Hz: the service's speech rate; the track is rendered at it, the mux pass resamples
PER_MS = DUB_RATE // 1000


@dataclass(frozen=True)
class Spooled:
    """One window's trimmed speech on disk, at its own sample rate."""

    clip: Clip
    path: Path
    rate: int


class ClipSpool:
    """Keeps each window's trimmed speech in a file of its own, so no clip outlives its window's turn."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
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
        length_ms = -(-(end - first) * 1000 // result.audio_rate)  # ceil: a clip never outgrows its plan
        spooled = Spooled(Clip(window.index, onset, length_ms), path, result.audio_rate)
        self.clips[window.index] = spooled
        return spooled


def tempo_filter(speed: float, rubberband: bool) -> str:
    """The pitch-preserving time stretch for ``speed`` (1.0 to 2.0, the range atempo takes in one step)."""
    return f"rubberband=tempo={speed:.4f}" if rubberband else f"atempo={speed:.4f}"


def stretch_args(src: Path, rate: int, dest: Path, speed: float, rubberband: bool) -> list[str]:
    """ffmpeg arguments that turn a spooled clip into PCM16 at DUB_RATE, ``speed`` times faster."""
    chain = [f"aresample={DUB_RATE}"] + ([tempo_filter(speed, rubberband)] if speed != 1.0 else [])
    return ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", str(src), "-af", ",".join(chain),
            "-f", "s16le", "-ar", str(DUB_RATE), "-ac", "1", "-c:a", "pcm_s16le", str(dest)]


def _clip_samples(placement: Placement, spooled: Spooled, scratch: Path, fade_ms: int) -> np.ndarray:
    if placement.speed == 1.0 and spooled.rate == DUB_RATE:
        samples = np.fromfile(spooled.path, dtype="<i2")
    else:
        media.run_ffmpeg(stretch_args(spooled.path, spooled.rate, scratch, placement.speed,
                                      media.has_filter("rubberband")), what=f"time-stretching clip {placement.index}")
        samples = np.fromfile(scratch, dtype="<i2")
    fade = fade_ms * PER_MS if placement.overflow_ms > 0 else 0
    return fit_samples(samples, placement.played_ms * PER_MS, fade)


def _silence(out: BinaryIO, count: int) -> None:
    block = np.zeros(DUB_RATE, dtype="<i2")
    while count > 0:
        out.write(block[:min(count, len(block))].tobytes())
        count -= len(block)


def render_dub(placements: Sequence[Placement], spool: ClipSpool, dest: Path, total_ms: int, fade_ms: int) -> None:
    """Write the dub track, ``total_ms`` long, to ``dest``: each placed clip at its start, silence between."""
    scratch = spool.folder / "stretched.pcm"
    written = 0
    with open(dest, "wb") as out:
        for placement in sorted(placements, key=lambda p: p.start_ms):
            if placement.played_ms <= 0:
                continue
            _silence(out, placement.start_ms * PER_MS - written)
            samples = _clip_samples(placement, spool.clips[placement.index], scratch, fade_ms)
            out.write(samples.tobytes())
            written = placement.start_ms * PER_MS + len(samples)
        _silence(out, total_ms * PER_MS - written)


def write_envelope(spans: Iterable[Span], total_ms: int, dest: Path, options: DuckOptions) -> None:
    """Write the original's duck gains (float32, one per ms, ``total_ms`` long) to ``dest``."""
    with open(dest, "wb") as out:
        for chunk in envelope_chunks(list(spans), total_ms, options):
            out.write(chunk.tobytes())
