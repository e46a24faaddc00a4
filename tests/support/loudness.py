"""EBU R128 figures of a file, by ffmpeg's own ebur128 filter: the tests' reference, independent of the
libebur128 measurements dubber makes in memory."""
from __future__ import annotations

from dubber.media.loudness import parse_measurement
from dubber.media.tool import run_ffmpeg
from dubber.models import Loudness


def measure_loudness(input_args: list[str], prefilter: str = "", exe: str | None = None) -> Loudness | None:
    """The first audio of ``input_args`` (after ``prefilter``), measured by ffmpeg (``exe``, else the suite's)."""
    chain = ",".join(f for f in (prefilter, "ebur128=framelog=verbose:peak=sample") if f)
    text = run_ffmpeg(["-nostats", *input_args, "-af", chain, "-f", "null", "-"], what="measuring loudness",
                      loglevel="info", exe=exe)
    return parse_measurement(text)
