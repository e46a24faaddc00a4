"""Ducking: where and how much the original is lowered under the dub (pure). The gains are written one
value per ms and multiplied into the original by the final ffmpeg pass."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from dubber.dub.timeline import Placement
from dubber.models import Span


@dataclass(frozen=True)
class DuckOptions:
    """``depth_db=15``: the issue asks for at least 12 dB; 15 leaves margin yet keeps music and effects
    clearly audible. The ramp down ends as the dub starts, so its first syllable is never masked. Dub
    clips closer than the two ramps plus ``hold_ms`` share one duck: the bed does not pump between them."""

    depth_db: float = 15.0
    attack_ms: int = 150
    release_ms: int = 300
    hold_ms: int = 400


def duck_spans(placements: Sequence[Placement], options: DuckOptions = DuckOptions()) -> list[Span]:
    """The spans over which the original is fully ducked: the dub's played spans, joined across short gaps."""
    join_below = options.attack_ms + options.release_ms + options.hold_ms
    spans: list[Span] = []
    for p in sorted(placements, key=lambda p: p.start_ms):
        if p.end_ms <= p.start_ms:
            continue
        if spans and p.start_ms - spans[-1].end_ms < join_below:
            spans[-1] = Span(spans[-1].start_ms, max(spans[-1].end_ms, p.end_ms))
        else:
            spans.append(Span(p.start_ms, p.end_ms))
    return spans


def envelope_chunks(spans: Sequence[Span], total_ms: int, options: DuckOptions = DuckOptions(),
                    chunk_ms: int = 60000) -> Iterator[np.ndarray]:
    """The original's gain, one float32 value per ms for ``[0, total_ms)``, in chunks (so an hour needs no
    hour-long array): 1.0 outside the spans, ``-depth_db`` inside, ramping linearly in dB around them."""
    for first in range(0, max(total_ms, 0), chunk_ms):
        t = np.arange(first, min(first + chunk_ms, total_ms), dtype=np.float64)
        depth = np.zeros(len(t))
        for span in spans:
            if span.start_ms - options.attack_ms > t[-1] or span.end_ms + options.release_ms < t[0]:
                continue
            down = (t - (span.start_ms - options.attack_ms)) / max(options.attack_ms, 1)
            up = ((span.end_ms + options.release_ms) - t) / max(options.release_ms, 1)
            depth = np.maximum(depth, np.clip(np.minimum(down, up), 0.0, 1.0))
        yield (10 ** (-options.depth_db * depth / 20)).astype("<f4")


