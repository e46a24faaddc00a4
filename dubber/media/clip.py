"""One window of the input as a small MP4, for services that watch as well as listen (``--input-mode video``).

The size rule. A request carries its clip as a base64 data URL, so every byte counts 4/3 times and a long
run sends hundreds of clips; the model samples a video at a few frames a second and reads a few hundred
pixels a side, so anything more is paid for and never seen. Each clip therefore holds:

- the first real video stream (cover art left out), its longer *displayed* side at most 480 px (never
  upscaled), aspect kept (anamorphic pixels made square), both sides even, at 2 frames a second, H.264
  (CRF 30, capped at 300 kbit/s, yuv420p), so most windows come to tens of kilobytes;
- the chosen audio stream (``MediaInfo.audio_index``), AAC mono 16 kHz at 48 kbit/s, the rate the
  speech models listen at;
- no metadata or chapters, ``+faststart``.

A clip may be at most ``MAX_CLIP_BYTES`` (7,000,000 bytes, about 9.3 MB as base64). The document names
no limit; 10 MB is a common ceiling for base64 media in a request body, so we stay under it. A clip over
it is encoded once more with ``SMALL`` (240 px, 1 frame a second, 100 kbit/s); if even that is too big,
the window is refused in one line that names it. At these caps that takes a window of minutes (the
default ``--max-window`` is 12 s): a shorter ``--max-window`` is the way out.

Timing. The clip starts at the window's start on the file's timeline: input-side seeking is exact when
transcoding, and ``ALIGN_TO_ZERO`` pads audio that starts late (an mkv delay, an mp4 edit list) exactly
as the analysis decode does, so the clip's audio lines up with what the window's WAV would have held.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from dubber.errors import InputError
from dubber.media.audio import ALIGN_TO_ZERO, ANALYSIS_RATE
from dubber.media.tool import run_ffmpeg
from dubber.models import MediaInfo, Window

log = logging.getLogger(__name__)

MAX_CLIP_BYTES = 7_000_000


@dataclass(frozen=True)
class ClipProfile:
    """How hard one encode squeezes a clip."""

    long_side: int  # px: the longer displayed side at most
    fps: int
    crf: int  # x264 quality; the bit-rate cap below keeps busy pictures in check
    video_kbps: int  # VBV cap (maxrate), buffer twice that
    audio_kbps: int


STANDARD = ClipProfile(long_side=480, fps=2, crf=30, video_kbps=300, audio_kbps=48)
SMALL = ClipProfile(long_side=240, fps=1, crf=34, video_kbps=100, audio_kbps=32)
PROFILES = (STANDARD, SMALL)  # tried in order until a clip fits


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}"


def scale_filter(long_side: int) -> str:
    """Fit the displayed picture (``iw*sar`` wide) within ``long_side``, never upscaling, both sides even.

    ``sar`` reads as 1 when a stream does not say, so an unknown aspect counts as square pixels. The
    0.01 px of slack keeps float error (479.9999...) from costing a pixel pair.
    """
    k = f"min(1,{long_side}/max(iw*sar,ih))"
    return (f"scale=w='max(2,trunc(iw*sar*{k}/2+0.01)*2)':h='max(2,trunc(ih*{k}/2+0.01)*2)',setsar=1")


def clip_args(info: MediaInfo, window: Window, dest: Path, profile: ClipProfile = STANDARD) -> list[str]:
    """ffmpeg arguments that cut ``[window.start_ms, window.end_ms)`` of ``info.path`` into the MP4 ``dest``."""
    video_filter = f"fps={profile.fps},{scale_filter(profile.long_side)},format=yuv420p"
    return [
        # Both before -i: a fast seek to the keyframe before, then frames are dropped up to the exact
        # start, and reading stops at the window's end.
        "-ss", _seconds(window.start_ms), "-t", _seconds(window.duration_ms), "-i", str(info.path),
        # 0:V is video that is not cover art, as probing counts it.
        "-map", "0:V:0", "-map", f"0:{info.audio_index}",
        "-vf", video_filter, "-c:v", "libx264", "-preset", "veryfast", "-crf", str(profile.crf),
        "-maxrate", f"{profile.video_kbps}k", "-bufsize", f"{2 * profile.video_kbps}k",
        "-af", ALIGN_TO_ZERO, "-c:a", "aac", "-b:a", f"{profile.audio_kbps}k", "-ac", "1",
        "-ar", str(ANALYSIS_RATE),
        "-map_metadata", "-1", "-map_chapters", "-1", "-movflags", "+faststart", "-f", "mp4", str(dest),
    ]


def _encode(info: MediaInfo, window: Window, workdir: Path, profile: ClipProfile) -> bytes:
    """One encode, read back; the file goes at once, so a long run never piles clips up on disk."""
    dest = workdir / f"clip-{window.index:05d}.mp4"
    try:
        run_ffmpeg(clip_args(info, window, dest, profile), what=f"cutting the video clip of window {window.index}")
        return dest.read_bytes()
    finally:
        dest.unlink(missing_ok=True)


def video_clip(info: MediaInfo, window: Window, workdir: Path, max_bytes: int = MAX_CLIP_BYTES) -> bytes:
    """The window as MP4 bytes no larger than ``max_bytes`` (see the module's size rule)."""
    for profile in PROFILES:
        data = _encode(info, window, workdir, profile)
        if len(data) <= max_bytes:
            return data
        log.info("window %d: a %d px clip is %d bytes, over %d; encoding it smaller",
                 window.index, profile.long_side, len(data), max_bytes)
    span = f"{_seconds(window.start_ms)}-{_seconds(window.end_ms)} s"
    raise InputError(info.path, f"window {window.index} ({span}) is {len(data):,} bytes as video even at "
                                f"{PROFILES[-1].long_side} px, over the {max_bytes:,} a request may carry "
                                f"(use a shorter --max-window)")
