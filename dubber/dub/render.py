"""Render the fitted timeline to disk: the dub track (mono PCM16) and the duck envelope (float32 gains).

Memory stays bounded by one clip: each window's speech was spooled to its own file as it arrived, and
the track is written front to back, silence and clips in turn. A placement of one part of a window's
clip reads only that part's samples from the window's file. Time stretching runs ffmpeg once per
sped-up part, with the run's stretch method (``dubber.media.stretch``).
"""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Sequence

import numpy as np

from dubber.dub.clips import ClipSpool, Spooled, fit_samples
from dubber.dub.duck import DuckOptions, envelope_chunks
from dubber.dub.timeline import Placement
from dubber.media.stretch import stretch_args
from dubber.media.tool import run_ffmpeg
from dubber.models import Span

DUB_RATE = 24000  # Hz: the service's speech rate; the track is rendered at it, the mux pass resamples
PER_MS = DUB_RATE // 1000


def part_range(placement: Placement, rate: int, total: int) -> tuple[int, int]:
    """The ``[first, end)`` samples of a placed part in its window's clip of ``total`` samples at ``rate``.

    >>> part_range(Placement(0, 0, 500, 500, 500, 1.0, 0, 1, 700), 24000, 60000)
    (16800, 28800)
    """
    first = min(total, placement.offset_ms * rate // 1000)
    return first, min(total, first + -(-placement.clip_ms * rate // 1000))


def _part_samples(placement: Placement, spooled: Spooled) -> np.ndarray:
    first, end = part_range(placement, spooled.rate, spooled.path.stat().st_size // 2)
    return np.fromfile(spooled.path, dtype="<i2", count=end - first, offset=2 * first)


def _clip_samples(placement: Placement, spooled: Spooled, scratch: Path, fade_ms: int, stretch: str) -> np.ndarray:
    samples = _part_samples(placement, spooled)
    if placement.speed != 1.0 or spooled.rate != DUB_RATE:
        part = scratch.with_name("part.pcm")
        samples.tofile(part)
        run_ffmpeg(stretch_args(part, spooled.rate, scratch, DUB_RATE, placement.speed, stretch),
                   what=f"time-stretching clip {placement.index} part {placement.part}")
        samples = np.fromfile(scratch, dtype="<i2")
    fade = fade_ms * PER_MS if placement.overflow_ms > 0 else 0
    return fit_samples(samples, placement.played_ms * PER_MS, fade)


def _silence(out: BinaryIO, count: int) -> None:
    block = np.zeros(DUB_RATE, dtype="<i2")
    while count > 0:
        out.write(block[:min(count, len(block))].tobytes())
        count -= len(block)


def render_dub(placements: Sequence[Placement], spool: ClipSpool, dest: Path, total_ms: int, fade_ms: int,
               stretch: str, progress: Callable[[float], None] | None = None) -> None:
    """Write the dub track, ``total_ms`` long, to ``dest``: each placed clip at its start, silence between;
    clips are sped up with the ``stretch`` method (``dubber.media.stretch.METHODS``). ``progress`` hears
    ``1`` as each placement is done (so a watcher's total is ``len(placements)``)."""
    scratch = spool.folder / "stretched.pcm"
    written = 0
    with open(dest, "wb") as out:
        for placement in sorted(placements, key=lambda p: p.start_ms):
            if placement.played_ms > 0:
                _silence(out, placement.start_ms * PER_MS - written)
                samples = _clip_samples(placement, spool.clips[placement.index], scratch, fade_ms, stretch)
                out.write(samples.tobytes())
                written = placement.start_ms * PER_MS + len(samples)
            if progress is not None:
                progress(1.0)
        _silence(out, total_ms * PER_MS - written)


def write_envelope(spans: Iterable[Span], total_ms: int, dest: Path, options: DuckOptions) -> None:
    """Write the original's duck gains (float32, one per ms, ``total_ms`` long) to ``dest``."""
    with open(dest, "wb") as out:
        for chunk in envelope_chunks(list(spans), total_ms, options):
            out.write(chunk.tobytes())
