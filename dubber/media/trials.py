"""dubber's own ffmpeg graphs, tried on a tiny generated input: the capability check's trials
(``dubber.media.capability``). Each is built by the same pure function a run uses, so a change to a graph is
tried as it will run: the audio decode, the dub mix's encoder fed on stdin (stereo and mono), the time
stretch (Rubber Band where the binary lists it, and atempo)."""
from __future__ import annotations

import hashlib
import json
import math
import tempfile
import wave
from pathlib import Path
from typing import Callable

import numpy as np

from dubber.errors import ToolError
from dubber.media import tool
from dubber.media.audio import extract_args
from dubber.media.mux import KINDS, EncodeSpec, build_encode_args
from dubber.media.stretch import METHODS, stretch_args, stretch_method
from dubber.models import MediaInfo

_RATE = 48000
_SECONDS = 0.5


def _tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    """A 440 Hz tone at -12 dBFS, ``channels`` wide (float32)."""
    t = np.arange(int(seconds * rate)) / rate
    return np.repeat((0.25 * np.sin(2 * math.pi * 440 * t))[:, None], channels, axis=1).astype(np.float32)


def write_tone(path: Path, channels: int) -> Path:
    pcm = (_tone(_SECONDS, _RATE, channels) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(_RATE)
        out.writeframes(pcm.tobytes())
    return path


def _info(path: Path, channels: int) -> MediaInfo:
    return MediaInfo(path=path, container="wav", duration_ms=int(_SECONDS * 1000), audio_index=0,
                     audio_codec="pcm_s16le", sample_rate=_RATE, channels=channels)


def _decode_args(folder: Path) -> list[str]:
    return extract_args(_info(folder / "stereo.wav", 2), folder / "decoded.pcm")


def _stretch_args(folder: Path, method: str) -> list[str]:
    return stretch_args(folder / "speech.pcm", 16000, folder / f"{method}.pcm", 24000, 1.25, method)


def mix_spec(folder: Path, stereo: bool) -> EncodeSpec:
    name = "stereo" if stereo else "mono"
    return EncodeSpec(input=folder / f"{name}.wav", audio_index=0, feed_rate=24000, kind=KINDS["wav"], rate=_RATE,
                      stereo=stereo, output=folder / f"mix-{name}.wav")


def _run_decode(exe: str, folder: Path, filters: frozenset[str]) -> None:
    tool.run_ffmpeg(_decode_args(folder), what="decoding a test tone", exe=exe)
    if (folder / "decoded.pcm").stat().st_size < 16000 * _SECONDS:  # 16 kHz PCM16: 2 bytes a sample
        raise ToolError("the decode wrote too little audio")


def _run_stretch(exe: str, folder: Path, filters: frozenset[str]) -> None:
    """The stretch a run would use with these ``filters`` (Rubber Band where listed), and atempo."""
    (folder / "speech.pcm").write_bytes((_tone(_SECONDS, 16000, 1)[:, 0] * 32767).astype("<i2").tobytes())
    for method in dict.fromkeys((stretch_method(filters), "atempo")):
        tool.run_ffmpeg(_stretch_args(folder, method), what=f"stretching a test tone with {method}", exe=exe)
        if not (folder / f"{method}.pcm").stat().st_size:
            raise ToolError(f"the stretch with {method} wrote no audio")


def _run_mix(exe: str, folder: Path, filters: frozenset[str]) -> None:
    """The dub mix's encoder as a run builds it, fed a tone and a gain of one half on its stdin, in stereo
    and in mono; it must write the whole mix (as long as the original)."""
    fed = np.concatenate([_tone(_SECONDS + 0.2, 24000, 1), np.full((int((_SECONDS + 0.2) * 24000), 1), 0.5,
                                                                   np.float32)], axis=1)
    for stereo in (True, False):
        spec = mix_spec(folder, stereo)
        with tool.FfmpegFeed(build_encode_args(spec), what="mixing a test tone", exe=exe) as encoder:
            encoder.write(fed.astype("<f4").tobytes())
            encoder.finish()
        with wave.open(str(spec.output), "rb") as mixed:
            if abs(mixed.getnframes() - _SECONDS * _RATE) > _RATE // 100:
                raise ToolError(f"the mix wrote {mixed.getnframes() / _RATE:.2f} s of a {_SECONDS} s original")


GRAPHS: dict[str, tuple[str, Callable[[str, Path, frozenset[str]], None]]] = {
    "decode": ("audio decode graph", _run_decode),
    "mix": ("dub mix graph", _run_mix),
    "stretch": ("time-stretch graph", _run_stretch),
}


def graphs_id() -> str:
    """The text of every graph the check runs: a change to any of them makes every binary be checked again."""
    folder = Path("check")
    text = [_decode_args(folder), *(_stretch_args(folder, m) for m in METHODS),
            *(build_encode_args(mix_spec(folder, s)) for s in (True, False))]
    return hashlib.sha256(json.dumps(text).encode()).hexdigest()[:16]


def failures(exe: str, filters: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """``(graph, ffmpeg's reason)`` of each graph ``exe`` (listing ``filters``) does not run."""
    failed = []
    with tempfile.TemporaryDirectory(prefix="dubber-ffmpeg-check-") as tmp:
        folder = Path(tmp)
        write_tone(folder / "stereo.wav", 2)
        write_tone(folder / "mono.wav", 1)
        for name, (_, run) in GRAPHS.items():
            try:
                run(exe, folder, filters)
            except (ToolError, OSError) as exc:
                failed.append((name, _reason(str(exc))))
    return tuple(failed)


def _reason(message: str) -> str:
    """ffmpeg's own words from a ToolError's message (``ffmpeg failed while ...: <reason>``)."""
    return message.split(": ", 1)[1] if message.startswith("ffmpeg failed while") else message
