"""Test media with speech at known times: espeak-ng utterances from samples/speech placed on a timeline,
optionally over a synthetic music bed, written to any container by the real ffmpeg.

Used by the tests and by benchmarks/, so ground truth (where speech is) is known exactly.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.media.tool import run_ffmpeg

RATE = 16000
SPEECH_DIR = Path(__file__).resolve().parents[2] / "samples" / "speech"


@dataclass(frozen=True)
class Placed:
    name: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Scene:
    pcm: np.ndarray  # int16 mono at RATE
    speech: tuple[Placed, ...]

    @property
    def duration_ms(self) -> int:
        return len(self.pcm) * 1000 // RATE


_CACHE: dict[str, np.ndarray] = {}


def utterance(name: str) -> np.ndarray:
    """One trimmed utterance (e.g. "en01") as int16 mono at RATE."""
    if name not in _CACHE:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "u.raw"
            run_ffmpeg(["-i", str(SPEECH_DIR / f"{name}.flac"), "-ac", "1", "-ar", str(RATE), "-f", "s16le", str(raw)],
                       what="decoding a test utterance")
            _CACHE[name] = np.fromfile(raw, dtype="<i2")
    return _CACHE[name]


def compose(layout: list[tuple[float, str]], tail_s: float = 1.0, music_db: float | None = None,
            seed: int = 1) -> Scene:
    """Place utterances after the given pauses: ``[(pause_before_s, name), ...]`` then ``tail_s`` of silence.

    ``music_db`` adds a music bed that many dB relative to the speech's RMS (e.g. -15), over the whole scene.
    """
    pieces: list[np.ndarray] = []
    placed: list[Placed] = []
    cursor = 0
    for pause_s, name in layout:
        gap = np.zeros(int(pause_s * RATE), dtype=np.int16)
        voice = utterance(name)
        pieces += [gap, voice]
        start = cursor + len(gap)
        placed.append(Placed(name, start * 1000 // RATE, (start + len(voice)) * 1000 // RATE))
        cursor = start + len(voice)
    pieces.append(np.zeros(int(tail_s * RATE), dtype=np.int16))
    scene = Scene(np.concatenate(pieces), tuple(placed))
    return scene if music_db is None else with_bed(scene, music_bed(len(scene.pcm), seed), music_db)


def with_bed(scene: Scene, bed: np.ndarray, gain_db: float | np.ndarray) -> Scene:
    """``scene`` with ``bed`` mixed under it at ``gain_db`` (one figure, or one per sample) relative to the
    RMS of the scene's speech."""
    voices = [utterance(p.name) for p in scene.speech]
    speech_rms = np.sqrt(np.mean(np.concatenate(voices).astype(np.float64) ** 2)) if voices else 1000.0
    pcm = scene.pcm.astype(np.float64) + bed * speech_rms * 10 ** (gain_db / 20) / np.sqrt(np.mean(bed**2))
    return Scene(np.clip(pcm, -32768, 32767).astype(np.int16), scene.speech)


def music_bed(n: int, seed: int = 1) -> np.ndarray:
    """A deterministic music-like bed: chord tones with harmonics changing every half second, a bass line,
    and a soft noise hi-hat on every beat. Unit-less float array."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    out = np.zeros(n)
    notes = [261.63, 293.66, 329.63, 349.23, 392.0, 440.0, 493.88]
    beat = RATE // 2
    for start in range(0, n, beat):
        seg = slice(start, min(n, start + beat))
        tt = t[seg]
        env = np.minimum(1.0, (tt - tt[0]) * 40) * np.exp(-(tt - tt[0]) * 2.0)
        for f in rng.choice(notes, size=3, replace=False):
            out[seg] += env * sum(np.sin(2 * np.pi * f * k * tt) / k for k in (1, 2, 3))
        out[seg] += 0.8 * env * np.sin(2 * np.pi * rng.choice(notes) / 4 * tt)
        hat = min(n - start, RATE // 40)
        out[start:start + hat] += 0.3 * rng.standard_normal(hat) * np.exp(-np.arange(hat) / (hat / 4))
    return out


VIDEO_KINDS = {"mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
               "mov": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
               "mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "flac"],
               "webm": ["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "100k", "-c:a", "libopus"]}
AUDIO_KINDS = {"wav": ["-c:a", "pcm_s16le"], "mp3": ["-c:a", "libmp3lame"], "m4a": ["-c:a", "aac"],
               "flac": ["-c:a", "flac"], "ogg": ["-c:a", "libvorbis"]}


def write_media(pcm: np.ndarray, dest: Path) -> Path:
    """Encode ``pcm`` into ``dest``; the kind comes from its suffix. Video kinds get a small test pattern."""
    kind = dest.suffix.lstrip(".")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "a.raw"
        pcm.astype("<i2").tofile(raw)
        audio_in = ["-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", str(raw)]
        if kind in VIDEO_KINDS:
            seconds = f"{len(pcm) / RATE:.3f}"
            video_in = ["-f", "lavfi", "-t", seconds, "-i", "testsrc2=size=64x36:rate=10"]
            args = [*video_in, *audio_in, "-map", "0:v", "-map", "1:a", *VIDEO_KINDS[kind], str(dest)]
        else:
            args = [*audio_in, *AUDIO_KINDS[kind], str(dest)]
        run_ffmpeg(args, what=f"writing test media {dest.name}")
    return dest
