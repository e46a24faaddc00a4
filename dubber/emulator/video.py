"""Video input of the chat models (``{"type": "video_url", "video_url": {"url": ...}}``): the clip checked,
its audio decoded in-process with PyAV, and what it costs in tokens.

The answer to a video follows its sound: the audio track is decoded to mono PCM16 at ``RATE`` and the
same placeholder pipeline as for ``input_audio`` runs on it, so a clip with no audio track answers as
silence would. Only the usage sees the picture.

The token rule (the document gives only the field, not the rule). Like the Qwen vision models, the
service is taken to sample ``FRAMES_PER_SECOND`` frames a second and to merge every two consecutive
sampled frames into one group of 28×28 px patches, each patch one token:

    video_tokens = max(1, ceil(seconds × FRAMES_PER_SECOND / 2)) × ceil(width / 28) × ceil(height / 28)

so a 10 s clip at 480×270 costs 10 × 18 × 10 = 1800 tokens. The audio track's tokens (25 a second, as
for audio input) stay in ``prompt_tokens_details.audio_tokens``, as the document says; ``prompt_tokens``
is their sum.
"""
from __future__ import annotations

import base64
import binascii
import io
import math
import re
from dataclasses import dataclass

import av
import numpy as np

from dubber.emulator import synth
from dubber.emulator.checks import check, field
from dubber.emulator.dialects import ApiError

__all__ = ["FRAMES_PER_SECOND", "PATCH_PX", "RATE", "Video", "decode_video", "decode_video_url", "with_video_tokens"]

RATE = 16000  # Hz: the decoded audio, as the speech models hear it
FRAMES_PER_SECOND = 2
PATCH_PX = 28
_DATA_URL = re.compile(r"data:video/[\w.+-]+;base64,(.*)", re.DOTALL)


@dataclass(frozen=True)
class Video:
    """A decoded clip: its sound, and the picture's size and length for the usage."""

    audio: synth.Audio
    duration_ms: int
    width: int
    height: int

    @property
    def tokens(self) -> int:
        groups = max(1, math.ceil(self.duration_ms / 1000 * FRAMES_PER_SECOND / 2))
        return groups * math.ceil(self.width / PATCH_PX) * math.ceil(self.height / PATCH_PX)


def _audio(container: av.container.InputContainer) -> synth.Audio:
    """The first audio track as mono PCM16 at RATE; none at all is no samples (silence)."""
    if not container.streams.audio:
        return synth.Audio(samples=np.zeros(0, dtype=np.int16), rate=RATE, pcm=b"")
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    pieces: list[np.ndarray] = []
    lead = None
    for frame in container.decode(stream):
        if lead is None and frame.time is not None:
            lead = max(0.0, frame.time)  # sound that starts late in the clip is late in the answer too
        pieces += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    pieces += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    pieces.insert(0, np.zeros(round((lead or 0.0) * RATE), dtype=np.int16))
    samples = np.concatenate(pieces).astype("<i2")
    return synth.Audio(samples=samples, rate=RATE, pcm=samples.tobytes())


def decode_video(data: bytes) -> Video:
    """Read a video file's bytes; raise ValueError saying what is wrong."""
    try:
        with av.open(io.BytesIO(data), metadata_errors="ignore") as container:
            if not container.streams.video:
                raise ValueError("the file has no video stream")
            picture = container.streams.video[0].codec_context
            if not picture.width or not picture.height:
                raise ValueError("the video stream has no picture size")
            duration = container.duration * 1000 // av.time_base if container.duration else 0
            return Video(_audio(container), int(duration), picture.width, picture.height)
    except av.error.FFmpegError as exc:
        raise ValueError(f"not a readable video file ({exc.strerror or type(exc).__name__})") from exc


def decode_video_url(item: dict, where: str) -> Video:
    """The clip of a ``video_url`` object (``where`` names it in errors): a base64 data URL of a video."""
    url = field(item, "url", str, f"{where}.url")
    check(url is not None, f"{where}.url is required", f"{where}.url")
    check(not url.startswith(("http://", "https://")),
          "the emulator cannot fetch URLs; send a base64 data URL", f"{where}.url")
    match = _DATA_URL.fullmatch(url)
    check(match is not None, "url must be a data URL: data:video/<format>;base64,<data>", f"{where}.url")
    try:
        raw = base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "input video is not valid base64", f"{where}.url") from exc
    try:
        return decode_video(raw)
    except ValueError as exc:
        raise ApiError(400, f"unsupported video: {exc}", f"{where}.url") from exc


def with_video_tokens(usage: dict, video_tokens: int) -> dict:
    """``usage`` (of the clip's audio) with the picture's tokens added, as the service reports video input."""
    prompt = usage["prompt_tokens"] + video_tokens
    details = {**usage["prompt_tokens_details"], "video_tokens": video_tokens}
    return {**usage, "prompt_tokens": prompt, "total_tokens": prompt + usage["completion_tokens"],
            "prompt_tokens_details": details}
