"""Loudness (EBU R128): measuring it with ffmpeg's ``loudnorm`` first pass, and the second pass that brings
the dub to the original's integrated loudness as one linear gain. Argument builders and parsers are pure."""
from __future__ import annotations

import json
import math
import re

from dubber.errors import ToolError
from dubber.media.tool import run_ffmpeg
from dubber.models import Loudness

FALLBACK_LUFS = -23.0  # EBU R128's programme target, for an original too quiet to measure
TRUE_PEAK = -1.5  # dBTP ceiling for the dub (headroom for lossy encoders)

_LOUDNORM_JSON = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}")


def measure_output_args(prefilter: str = "") -> list[str]:
    """An output that discards the audio after measuring it (after ``prefilter``): appended to any
    command that reads the audio, so the measurement costs no extra decode."""
    chain = ",".join(f for f in (prefilter, "loudnorm=print_format=json") if f)
    return ["-af", chain, "-f", "null", "-"]


def parse_measurement(log_text: str) -> Loudness | None:
    """The figures ``loudnorm`` printed in ffmpeg's log; None when the audio is too quiet to measure
    (silence, or below loudnorm's -70 LUFS gate)."""
    found = _LOUDNORM_JSON.findall(log_text)
    if not found:
        raise ToolError("ffmpeg printed no loudness measurement")
    data = json.loads(found[-1])
    values = [float(data[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh")]
    if not all(math.isfinite(v) for v in values) or values[0] <= -70:
        return None
    return Loudness(*values)


def measure_loudness(input_args: list[str], prefilter: str = "") -> Loudness | None:
    """EBU R128 figures of the first audio of ``input_args`` (after ``prefilter``)."""
    text = run_ffmpeg(["-nostats", *input_args, *measure_output_args(prefilter)], what="measuring loudness",
                      loglevel="info")
    return parse_measurement(text)


def loudnorm_filter(dub: Loudness | None, target_lufs: float | None) -> str:
    """loudnorm's second pass in linear mode: one fixed gain that brings the dub to the original's
    integrated loudness (ffmpeg falls back to its dynamic mode only if that gain would break the peak
    ceiling). Empty when the dub is silent."""
    if dub is None:
        return ""
    target = min(-5.0, max(-70.0, FALLBACK_LUFS if target_lufs is None else target_lufs))
    lra = min(50.0, max(1.0, dub.lra + 1.0, 11.0))
    return (f"loudnorm=I={target:.2f}:TP={TRUE_PEAK}:LRA={lra:.1f}:measured_I={dub.integrated:.2f}"
            f":measured_TP={dub.true_peak:.2f}:measured_LRA={dub.lra:.2f}:measured_thresh={dub.threshold:.2f}"
            f":linear=true")
