"""Ducking: where and how much the original is lowered under the dub (pure). The gains are made one value
per ms for the stretch of the track being rendered, and multiplied into the original by the dub's
encoder (``dubber.dub.render``, ``dubber.media.mux.build_encode_graph``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

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
    spans: list[Span] = []
    for p in sorted(placements, key=lambda p: p.start_ms):
        add_span(spans, p, options)
    return spans


def add_span(spans: list[Span], placement: Placement, options: DuckOptions) -> None:
    """Add the next placement (in time order) to ``spans``: joined to the last span across a short gap."""
    if placement.end_ms <= placement.start_ms:
        return
    if spans and placement.start_ms - spans[-1].end_ms < options.attack_ms + options.release_ms + options.hold_ms:
        spans[-1] = Span(spans[-1].start_ms, max(spans[-1].end_ms, placement.end_ms))
    else:
        spans.append(Span(placement.start_ms, placement.end_ms))


def envelope(spans: Sequence[Span], first_ms: int, end_ms: int, options: DuckOptions = DuckOptions()) -> np.ndarray:
    """The original's gain, one float32 value per ms for ``[first_ms, end_ms)``: 1.0 outside the spans,
    ``-depth_db`` inside, ramping linearly in dB around them. Only the spans near the range are read, so
    a dub rendered piece by piece costs no more than one rendered whole."""
    t = np.arange(first_ms, max(first_ms, end_ms), dtype=np.float64)
    depth = np.zeros(len(t))
    if len(t) == 0:
        return depth.astype("<f4")
    for span in spans:
        if span.start_ms - options.attack_ms > t[-1] or span.end_ms + options.release_ms < t[0]:
            continue
        down = (t - (span.start_ms - options.attack_ms)) / max(options.attack_ms, 1)
        up = ((span.end_ms + options.release_ms) - t) / max(options.release_ms, 1)
        depth = np.maximum(depth, np.clip(np.minimum(down, up), 0.0, 1.0))
    return (10 ** (-options.depth_db * depth / 20)).astype("<f4")


def settled_ms(next_start_ms: int, options: DuckOptions) -> int:
    """How far the envelope is final when no dub clip still to come starts before ``next_start_ms``: a clip
    there may join the last span (which moves its release) or ramp down ahead of itself.

    >>> settled_ms(10_000, DuckOptions())
    9150
    """
    return next_start_ms - (options.attack_ms + options.release_ms + options.hold_ms)
