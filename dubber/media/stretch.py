"""Time-stretching a clip without changing its pitch: Rubber Band when the ffmpeg in use has it (better on
speech), else ``atempo``. The method is decided once per run (``stretch_method``) and passed down, so the
renderer and the report always agree on it."""
from __future__ import annotations

from pathlib import Path
from typing import Collection

from dubber.media.audio import raw_input_args

METHODS = ("rubberband", "atempo")


def stretch_method(filters: Collection[str]) -> str:
    """The pitch-preserving stretch an ffmpeg with ``filters`` offers (a build may lack ``rubberband``)."""
    return "rubberband" if "rubberband" in filters else "atempo"


def tempo_filter(speed: float, method: str) -> str:
    """The filter that plays audio ``speed`` times faster (1.0 to 2.0, the range atempo takes in one step)."""
    if method not in METHODS:
        raise ValueError(f"unknown stretch method {method!r}")
    return f"rubberband=tempo={speed:.4f}" if method == "rubberband" else f"atempo={speed:.4f}"


def stretch_args(src: Path, src_rate: int, dest: Path, dest_rate: int, speed: float, method: str) -> list[str]:
    """ffmpeg arguments that turn a mono PCM16 clip into PCM16 at ``dest_rate``, ``speed`` times faster."""
    chain = [f"aresample={dest_rate}"] + ([tempo_filter(speed, method)] if speed != 1.0 else [])
    return [*raw_input_args(src, src_rate), "-af", ",".join(chain),
            "-f", "s16le", "-ar", str(dest_rate), "-ac", "1", "-c:a", "pcm_s16le", str(dest)]
