"""The input's audio as dubber analyses and sends it: one decode to raw mono PCM16, read back a slice at a
time, and cut into WAV bytes per window."""
from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from dubber.errors import InputError, ToolError
from dubber.media.tool import run_ffmpeg
from dubber.models import MediaInfo

ANALYSIS_RATE = 16000  # Hz: speech detection and the audio sent to the service
# Audio filter: put the stream's first sample at its true time. Audio that starts late (an mkv/ts delay,
# an mp4 edit list) is padded with silence, so every time dubber computes is on the file's timeline,
# where players put the subtitles.
ALIGN_TO_ZERO = "aresample=first_pts=0"


def raw_input_args(path: Path, rate: int, sample_format: str = "s16le") -> list[str]:
    """ffmpeg input arguments for a headerless mono file (PCM16 by default)."""
    return ["-f", sample_format, "-ar", str(rate), "-ac", "1", "-i", str(path)]


def extract_args(info: MediaInfo, dest: Path, rate: int = ANALYSIS_RATE, seconds: float | None = None) -> list[str]:
    """Decode the chosen audio stream once to raw mono PCM16 at ``rate`` in ``dest`` (its first ``seconds``
    only, when given)."""
    first = ["-t", f"{seconds:g}"] if seconds is not None else []
    return ["-i", str(info.path), "-f", "s16le", "-ac", "1", "-acodec", "pcm_s16le", "-af", ALIGN_TO_ZERO,
            "-ar", str(rate), "-map", f"0:{info.audio_index}", *first, str(dest)]


def extract_pcm(info: MediaInfo, dest: Path, rate: int = ANALYSIS_RATE, seconds: float | None = None) -> None:
    """Run ``extract_args``; a stream that cannot be decoded is the input's fault (InputError)."""
    try:
        run_ffmpeg(extract_args(info, dest, rate, seconds), what="decoding the audio")
    except ToolError as exc:
        raise InputError(info.path, f"audio cannot be decoded ({exc})") from exc


class PcmFile:
    """Raw mono PCM16 on disk, read a slice at a time: ``len(pcm)`` and ``pcm[a:b]`` work as on an int16
    array, and each slice is a fresh array read from the file.

    Not a memory map: the pages of a file-backed map count in the process's RSS once touched, so reading
    an hour's track (115 MB at 16 kHz) block by block would leave all of it resident. Here only the slice
    asked for is in memory, and nothing is kept open between reads (threads may read at once).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._samples = self.path.stat().st_size // 2  # a trailing odd byte is not a sample

    def __len__(self) -> int:
        return self._samples

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice):
            raise TypeError(f"PcmFile takes slices (pcm[a:b]), not {type(key).__name__}")
        start, stop, step = key.indices(self._samples)
        if step != 1:
            raise ValueError("PcmFile reads contiguous slices only (step 1)")
        if stop <= start:
            return np.zeros(0, dtype=np.int16)
        return np.fromfile(self.path, dtype="<i2", count=stop - start, offset=2 * start).astype(np.int16, copy=False)

    def __repr__(self) -> str:
        return f"PcmFile({str(self.path)!r}, {self._samples} samples)"


def wav_bytes(pcm: np.ndarray, rate: int) -> bytes:
    """A mono PCM16 WAV file's bytes for ``pcm`` (what one window sends)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    return buffer.getvalue()
