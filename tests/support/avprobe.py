"""What the tests would ask ffprobe, asked of PyAV (no ffprobe binary ships in any wheel): streams, tags,
dispositions, packets and durations, and decoded audio as numpy for level measurements."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class StreamInfo:
    index: int
    type: str
    codec: str
    language: str | None
    title: str | None
    default: bool


# PyAV names a stream's decoder; ffprobe names its codec. These are the decoders that differ.
_CODEC_NAMES = {"srt": "subrip", "mp3float": "mp3"}


def _codec(stream) -> str:
    if stream.type == "attachment":  # no decoder: ffprobe names its codec after its MIME type (font/ttf: ttf)
        return str(stream.metadata.get("mimetype", "")).rsplit("/", 1)[-1]
    if stream.codec_context is None:  # a data stream (an mp4 chapter track, a timecode)
        return stream.type
    return _CODEC_NAMES.get(stream.codec_context.name, stream.codec_context.name)


def streams(path: Path) -> list[StreamInfo]:
    with av.open(str(path)) as container:
        return [StreamInfo(s.index, s.type, _codec(s), s.metadata.get("language"),
                           s.metadata.get("title") or s.metadata.get("name"),
                           bool(s.disposition & av.stream.Disposition.default))
                for s in container.streams]


def duration_s(path: Path) -> float:
    with av.open(str(path)) as container:
        return container.duration / av.time_base


def video_packets(path: Path) -> list[tuple[bytes, int | None, int | None, bool]]:
    """Every packet of the first video stream: bytes, pts, dts (in seconds * 1e6) and the key flag."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        scale = float(stream.time_base) * 1e6
        return [(bytes(p), None if p.pts is None else round(p.pts * scale), None if p.dts is None else
                 round(p.dts * scale), p.is_keyframe) for p in container.demux(stream) if p.size]


def assert_video_copied(out: Path, src: Path) -> None:
    """The first video stream copied bit for bit: every packet's bytes and key flag, its timestamps moved by
    one constant of at most 10 ms, a quarter of a 25 fps frame and far under what a viewer notices
    (releases differ in how a container's start offset is carried: Debian's 5.1 and the static 7.0.2 move a
    WebM's video by 2 to 7 ms where the wheel's 9.0.2 moves it by none)."""
    copied, original = video_packets(out), video_packets(src)
    assert [(p[0], p[3]) for p in copied] == [(p[0], p[3]) for p in original], "the video was not copied bit for bit"
    shifts = {(c[1] - o[1], c[2] - o[2]) for c, o in zip(copied, original)}
    assert len(shifts) == 1 and all(abs(v) <= 10_000 for v in next(iter(shifts))), shifts


def decode_audio(path: Path, index: int | None = None, rate: int | None = None) -> tuple[np.ndarray, int]:
    """Stream ``index`` (default: the first audio stream) decoded to mono float in [-1, 1] (at ``rate``, else
    its own), and that rate."""
    with av.open(str(path)) as container:
        stream = container.streams[index] if index is not None else container.streams.audio[0]
        rate = rate or stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [frame.to_ndarray().reshape(-1) for packet_frame in container.decode(stream)
                  for frame in resampler.resample(packet_frame)]
        chunks += [frame.to_ndarray().reshape(-1) for frame in resampler.resample(None)]
        return np.concatenate(chunks).astype(np.float64), rate


def voiced_ms(signal: np.ndarray, rate: int, threshold_db: float = -45.0, frame_ms: int = 10) -> np.ndarray:
    """Start times (ms) of the 10 ms frames louder than ``threshold_db`` dBFS."""
    frame = rate * frame_ms // 1000
    count = len(signal) // frame
    rms = np.sqrt(np.mean(signal[:count * frame].reshape(count, frame) ** 2, axis=1))
    return np.flatnonzero(20 * np.log10(np.maximum(rms, 1e-10)) > threshold_db) * frame_ms


def gain_db(mix: np.ndarray, reference: np.ndarray, rate: int, start_ms: int, end_ms: int) -> float:
    """How loud ``reference`` is inside ``mix`` over a span, in dB: the least-squares gain of the one in the
    other (the dub on top is uncorrelated with the original, so it does not bias the estimate)."""
    part = slice(start_ms * rate // 1000, end_ms * rate // 1000)
    ref = reference[part]
    return float(20 * np.log10(abs(np.dot(mix[part], ref) / np.dot(ref, ref)) + 1e-12))
