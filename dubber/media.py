"""The one place that runs ffmpeg and reads media containers.

ffmpeg: ``$DUBBER_FFMPEG`` if set, else the system ``ffmpeg`` on PATH, else the static binary that the
imageio-ffmpeg wheel ships, so a plain ``pip install`` works on a machine with no ffmpeg at all.
Probing uses PyAV (the FFmpeg libraries, in-process) rather than an ``ffprobe`` binary, because no wheel
ships ffprobe; one prober on every machine also means one set of behaviours to test.
"""
from __future__ import annotations

import functools
import io
import json
import logging
import math
import os
import re
import shutil
import subprocess
import wave
from pathlib import Path

import av
import ffmpeg
import numpy as np

from dubber.errors import InputError, ToolError
from dubber.models import Loudness, MediaInfo

log = logging.getLogger(__name__)

ANALYSIS_RATE = 16000  # Hz: speech detection and the audio sent to the service
ALIGN_TO_ZERO = "aresample=first_pts=0"  # audio filter: put the stream's first sample at its true time


@functools.lru_cache(maxsize=None)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary dubber runs."""
    override = os.environ.get("DUBBER_FFMPEG")
    if override:
        return override
    system = shutil.which("ffmpeg")
    if system:
        return system
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise ToolError("no ffmpeg found: install ffmpeg or the imageio-ffmpeg package") from exc


def run_ffmpeg(args: list[str], *, what: str, loglevel: str = "error") -> str:
    """Run ffmpeg with ``args`` (as built by ffmpeg-python's ``get_args``); raise ToolError on failure.
    Returns ffmpeg's log, where analysis filters (``loudnorm``) print their results at ``info`` level."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, "-y", *args]
    log.debug("running %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"ffmpeg failed while {what}: {lines[-1] if lines else f'exit {proc.returncode}'}")
    return proc.stderr.decode("utf-8", "replace")


def _disposition_default(stream: av.stream.Stream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.default)


def _language(stream: av.stream.Stream) -> str | None:
    language = (stream.metadata.get("language") or "").strip().lower()
    return language if language and language != "und" else None


def _duration_ms(container: av.container.InputContainer) -> int:
    if container.duration is not None:
        return int(container.duration * 1000 // av.time_base)
    ends = [
        float(s.duration * s.time_base) for s in container.streams if s.duration is not None and s.time_base
    ]
    return int(max(ends, default=0.0) * 1000)


def probe(path: Path) -> MediaInfo:
    """Describe ``path``'s container and pick its audio stream: the first default one, else the first."""
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not a media file")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            audio = list(container.streams.audio)
            if not audio:
                raise InputError(path, "has no audio stream")
            chosen = next((s for s in audio if _disposition_default(s)), audio[0])
            ctx = chosen.codec_context
            return MediaInfo(
                path=path,
                container=container.format.name,
                duration_ms=_duration_ms(container),
                audio_index=chosen.index,
                audio_codec=ctx.name if ctx else "unknown",
                sample_rate=ctx.sample_rate or 0,
                channels=ctx.channels or 0,
                video_codecs=tuple(s.codec_context.name for s in container.streams.video
                                   if not s.disposition & av.stream.Disposition.attached_pic),
                audio_language=_language(chosen),
            )
    except PermissionError as exc:
        raise InputError(path, "permission denied") from exc
    except av.error.FFmpegError as exc:
        raise InputError(path, "not a media file, or corrupt") from exc


def extract_pcm(info: MediaInfo, dest: Path, rate: int = ANALYSIS_RATE) -> None:
    """Decode the chosen audio stream once to raw mono PCM16 at ``rate`` in ``dest``."""
    args = (
        ffmpeg.input(str(info.path))
        # first_pts=0: audio that starts late (an mkv/ts delay, an mp4 edit list) is padded with silence,
        # so every time dubber computes is on the file's timeline, where players put the subtitles
        .output(str(dest), map=f"0:{info.audio_index}", ac=1, ar=rate, f="s16le", acodec="pcm_s16le",
                af=ALIGN_TO_ZERO)
        .get_args()
    )
    try:
        run_ffmpeg(args, what="decoding the audio")
    except ToolError as exc:
        raise InputError(info.path, f"audio cannot be decoded ({exc})") from exc


def load_pcm(path: Path) -> np.ndarray:
    """Map raw PCM16 from disk without reading it all into memory."""
    if path.stat().st_size < 2:
        return np.zeros(0, dtype=np.int16)
    return np.memmap(path, dtype="<i2", mode="r")


def wav_bytes(pcm: np.ndarray, rate: int) -> bytes:
    """A mono PCM16 WAV file's bytes for ``pcm`` (what one window sends)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    return buffer.getvalue()


# --- used by dubbing -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def has_filter(name: str) -> bool:
    """Whether the ffmpeg in use has the filter ``name`` (a system ffmpeg may lack ``rubberband``)."""
    try:
        listing = subprocess.run([ffmpeg_exe(), "-hide_banner", "-filters"], capture_output=True, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({exc.strerror})") from exc
    return re.search(rf"^\s*\S+\s+{re.escape(name)}\s", listing.stdout.decode("utf-8", "replace"), re.M) is not None


_LOUDNORM_JSON = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}")


def measure_loudness(input_args: list[str], prefilter: str = "") -> Loudness | None:
    """EBU R128 figures of the first audio of ``input_args`` (after ``prefilter``); None when it is too
    quiet to measure (silence, or below loudnorm's -70 LUFS gate)."""
    chain = ",".join(f for f in (prefilter, "loudnorm=print_format=json") if f)
    text = run_ffmpeg(["-nostats", *input_args, "-af", chain, "-f", "null", "-"], what="measuring loudness",
                      loglevel="info")
    found = _LOUDNORM_JSON.findall(text)
    if not found:
        raise ToolError("ffmpeg printed no loudness measurement")
    data = json.loads(found[-1])
    values = [float(data[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh")]
    if not all(math.isfinite(v) for v in values) or values[0] <= -70:
        return None
    return Loudness(*values)
