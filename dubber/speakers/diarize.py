"""Who speaks when, on the CPU: local segmentation, speaker embeddings, clustering (the shape of pyannote.audio
3.1's pipeline, with CAM++ embeddings pooled from one pass of its trunk).

1. **Segmentation.** 10 s chunks every second go through segmentation-3.0, which tells up to three *local*
   speakers apart inside each chunk, two of them at once where they overlap.
2. **Embeddings.** CAM++'s trunk runs once over the audio, 30 s at a time; each local speaker of each chunk
   gets an embedding pooled from the trunk frames where they talk alone (where they only overlap, from
   those). Only running sums are kept per chunk speaker, so memory stays flat however long the input.
3. **Clustering and reconstruction** (``clusters``): chunk speakers are clustered into the file's speakers,
   each chunk's local speakers matched to different ones, and every frame given its likeliest speakers, as
   many as the chunks say talk there.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from dubber.models import Turn
from dubber.speakers import SpeakerOptions, networks
from dubber.speakers.clusters import Local, cluster, reconstruct
from dubber.speakers.turns import renumber
from dubber.speech.frames import Samples

STEP = networks.RATE  # a chunk every second (pyannote 3.1's step: each instant is seen by ten chunks)
BATCH = 4  # chunks per run of the segmentation network (at most: its memory is reused, so it stays bounded)
BLOCK_FRAMES = 3000  # filterbank frames per pass of the trunk: 30 s
LEAST_ALONE = 20  # segmentation frames (0.34 s) alone that make a chunk speaker's embedding; else overlapped ones
LEAST_ANY = 6  # fewer frames than this: the chunk speaker is too short to embed


def diarize(pcm: Samples, rate: int, options: SpeakerOptions) -> list[Turn]:
    """The turns of each speaker of ``pcm`` (mono int16 at 16 kHz), speakers numbered in order of first
    speech; turns of two speakers may overlap."""
    if rate != networks.RATE:
        raise ValueError(f"diarization takes 16 kHz audio, not {rate} Hz")
    if len(pcm) < rate // 2:
        return []
    starts = chunk_starts(len(pcm))
    marginal, active = _segment(pcm, starts)
    chunk_speakers = _embed(pcm, starts, active)
    if not chunk_speakers:
        return []
    centres = cluster(np.stack([s.embedding for s in chunk_speakers]), options)
    found = reconstruct(starts / rate, marginal, active, chunk_speakers, centres, len(pcm) / rate, options)
    return renumber(Turn(round(s * 1000), round(e * 1000), k) for s, e, k in found)


def chunk_starts(samples: int) -> np.ndarray:
    """Where the chunks start: every second, and one more ending with the audio.

    >>> chunk_starts(16_000 * 12).tolist()
    [0, 16000, 32000]
    """
    last = max(0, samples - networks.CHUNK)
    starts = list(range(0, last + 1, STEP))
    if starts[-1] < last:
        starts.append(last)
    return np.array(starts)


def _segment(pcm: Samples, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each chunk's local speakers, frame by frame (both (n, 589, 3)): their probabilities (float16, kept for
    the whole file) and who the likeliest class says talks. Batches run on ``networks.WORKERS`` threads."""
    def run(batch: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = starts[batch * BATCH:(batch + 1) * BATCH]
        logp = networks.segment(np.stack([networks.read(pcm, int(s), networks.CHUNK) for s in chosen]), batch)
        return (np.exp(logp) @ networks.POWERSET).astype(np.float16), networks.POWERSET[logp.argmax(-1)] > 0

    with ThreadPoolExecutor(networks.WORKERS, thread_name_prefix="segmentation") as pool:
        done = list(pool.map(run, range(-(-len(starts) // BATCH))))  # in order
    return np.concatenate([m for m, _ in done]), np.concatenate([a for _, a in done])


@dataclass
class _Pool:
    """Running sums of one chunk speaker's trunk frames."""

    frames: np.ndarray  # global trunk frame indices, sorted
    total: np.ndarray = field(default_factory=lambda: np.zeros(512))
    squares: np.ndarray = field(default_factory=lambda: np.zeros(512))
    count: int = 0


def _embed(pcm: Samples, starts: np.ndarray, active: np.ndarray) -> list[Local]:
    """An embedding for each chunk speaker with enough speech, from one pass of the trunk."""
    pools: dict[tuple[int, int], _Pool] = {}
    duration_s = len(pcm) / networks.RATE
    for c, start in enumerate(starts):
        alone = active[c].sum(axis=1) == 1
        seconds = start / networks.RATE + np.arange(active.shape[1]) * networks.FRAME_STEP_S + networks.FRAME_SPAN_S / 2
        heard = seconds < duration_s  # a chunk padded past the end hears nobody there
        for k in range(active.shape[2]):
            frames = np.flatnonzero(active[c, :, k] & alone & heard)
            if len(frames) < LEAST_ALONE:
                frames = np.flatnonzero(active[c, :, k] & heard)
                if len(frames) < LEAST_ANY:
                    continue
            trunk = np.unique(np.round((seconds[frames] - 0.0125) / networks.TRUNK_STEP_S).astype(np.int64))
            pools[(c, k)] = _Pool(trunk[trunk >= 0])
    total_frames = 1 + max(0, len(pcm) - networks.FBANK_WIDTH) // networks.FBANK_HOP
    chunk_s, starts_s = networks.CHUNK / networks.RATE, starts / networks.RATE
    for first, count in _blocks(total_frames):
        samples = networks.read(pcm, first * networks.FBANK_HOP, (count - 1) * networks.FBANK_HOP + networks.FBANK_WIDTH)
        out = networks.trunk(networks.fbank(samples))  # (512, ceil(count / 2))
        lo, hi = first // 2, first // 2 + out.shape[1]
        # only the chunks around this block have frames in it
        near = set(np.flatnonzero((starts_s < hi * networks.TRUNK_STEP_S + 1)
                                  & (starts_s + chunk_s > lo * networks.TRUNK_STEP_S - 1)).tolist())
        for (c, _), pool in pools.items():
            if c not in near:
                continue
            inside = pool.frames[(pool.frames >= lo) & (pool.frames < hi)] - lo
            if len(inside):
                picked = out[:, inside].astype(np.float64)
                pool.total += picked.sum(axis=1)
                pool.squares += (picked ** 2).sum(axis=1)
                pool.count += len(inside)
    found = []
    for (c, k), pool in pools.items():
        if pool.count < 3:
            continue
        mean = pool.total / pool.count
        std = np.sqrt(np.maximum(pool.squares / pool.count - mean ** 2, 0) * pool.count / (pool.count - 1))
        found.append(Local(c, k, networks.embedding(mean.astype(np.float32), std.astype(np.float32))))
    return found


def _blocks(frames: int) -> list[tuple[int, int]]:
    """(first, count) filterbank frames of each pass of the trunk: 30 s each, even starts (the trunk halves
    the frame rate), and a last piece too short to stand alone joined to the one before."""
    blocks = [(first, min(BLOCK_FRAMES, frames - first)) for first in range(0, frames, BLOCK_FRAMES)]
    if len(blocks) > 1 and blocks[-1][1] < 50:
        (first, count), (_, rest) = blocks[-2], blocks.pop()
        blocks[-1] = (first, count + rest)
    return blocks
