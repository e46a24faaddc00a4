"""Who speaks when, on the CPU: local segmentation, speaker embeddings, clustering (the shape of pyannote.audio
3.1's pipeline, with CAM++ embeddings pooled from one pass of its trunk).

1. **Segmentation.** 10 s chunks every second go through segmentation-3.0, which tells up to three *local*
   speakers apart inside each chunk, two of them at once where they overlap. The file is first heard at a
   loud level (``networks.level_gain``: the network's normalisation would otherwise lose quiet speech), and
   the network's first layer runs once over each batch of chunks (``networks.segment``).
2. **Embeddings.** CAM++'s trunk runs once over the audio, 30 s at a time; each local speaker of each chunk
   who talks alone long enough gets an embedding pooled from the trunk frames where they do (none from
   overlapped speech, a blend of two voices). Only running sums are kept per chunk speaker, so memory stays
   flat however long the input.
3. **Clustering and reconstruction** (``clusters``): chunk speakers are clustered into the file's speakers,
   each chunk's local speakers matched to different ones, and every frame given its likeliest speakers, as
   many as the chunks say talk there.

Both networks run on one-thread sessions in one pool of ``networks.WORKERS`` threads, in time order: each
30 s block's trunk pass, then the segmentation batches of the chunks it needs (a block is pooled once they
are done), so the trunk runs beside segmentation instead of after it and no core waits.
"""
from __future__ import annotations

import itertools
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from dubber.models import Turn
from dubber.speakers import SpeakerOptions, networks
from dubber.speakers.clusters import Local, cluster, reconstruct
from dubber.speakers.turns import renumber
from dubber.speech.frames import Samples

STEP = networks.RATE  # a chunk every second (pyannote 3.1's step: each instant is seen by ten chunks)
BATCH = 4  # chunks per run of the segmentation network (at most: its memory is reused, so it stays bounded)
AHEAD = 32  # tasks (trunk blocks, segmentation batches) given to the pool and not yet taken back: bounds memory
BLOCK_FRAMES = 3000  # filterbank frames per pass of the trunk: 30 s
LEAST_ALONE = 20  # segmentation frames (0.34 s) alone that make a chunk speaker's embedding; fewer: none


def diarize(pcm: Samples, rate: int, options: SpeakerOptions) -> list[Turn]:
    """The turns of each speaker of ``pcm`` (mono int16 at 16 kHz), speakers numbered in order of first
    speech; turns of two speakers may overlap."""
    if rate != networks.RATE:
        raise ValueError(f"diarization takes 16 kHz audio, not {rate} Hz")
    if len(pcm) < rate // 2:
        return []
    starts = chunk_starts(len(pcm))
    marginal, active, chunk_speakers = _analyse(pcm, starts)
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


def _analyse(pcm: Samples, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Local]]:
    """Each chunk's local speakers, frame by frame (both (n, 589, 3)): their probabilities (float16, kept for
    the whole file) and who the likeliest class says talks; and an embedding for each chunk speaker with
    enough speech, from one pass of the trunk."""
    chunks = len(starts)
    marginal = np.empty((chunks, networks.FRAMES, 3), np.float16)
    active = np.empty((chunks, networks.FRAMES, 3), bool)
    pools: dict[tuple[int, int], _Pool] = {}
    duration_s, starts_s = len(pcm) / networks.RATE, starts / networks.RATE
    total_frames = 1 + max(0, len(pcm) - networks.FBANK_WIDTH) // networks.FBANK_HOP
    gain = networks.level_gain(pcm)
    blocks = _blocks(total_frames)
    # the chunks a block's trunk frames may belong to start before its end (and a second, to be safe)
    needed = [int(np.searchsorted(starts_s, (first + count) * networks.FBANK_HOP / networks.RATE + 1))
              for first, count in blocks]
    needed[-1] = chunks

    worker = threading.local()
    numbers = itertools.count()

    def number() -> None:
        worker.number = next(numbers) % networks.WORKERS

    def run(task: tuple) -> tuple:
        if task[0] == "trunk":
            first, count = blocks[task[1]]
            width = (count - 1) * networks.FBANK_HOP + networks.FBANK_WIDTH
            samples = networks.read(pcm, first * networks.FBANK_HOP, width)
            return task, networks.trunk(networks.fbank(samples * gain))  # (512, ceil(count / 2))
        logp = networks.segment(pcm, starts[task[1]:task[2]], worker.number, gain)
        return task, ((np.exp(logp) @ networks.POWERSET).astype(np.float16), networks.POWERSET[logp.argmax(-1)] > 0)

    segmented = np.zeros(chunks, bool)
    waiting: dict[int, np.ndarray] = {}  # trunk outputs waiting for their chunks' segmentation

    def take(pending: set[Future]) -> set[Future]:
        """Take back what is done of ``pending``; pool the blocks whose chunks are all segmented."""
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            task, result = future.result()
            if task[0] == "trunk":
                waiting[task[1]] = result
                continue
            first, last = task[1], task[2]
            marginal[first:last], active[first:last] = result
            segmented[first:last] = True
            for c in range(first, last):
                pools.update(_chunk_pools(c, starts_s[c], active[c], duration_s))
        for b in sorted(waiting):
            if segmented[:needed[b]].all():
                _pool_block(pools, starts_s, blocks[b][0] // 2, waiting.pop(b))
        return pending

    pending: set[Future] = set()
    with ThreadPoolExecutor(networks.WORKERS, thread_name_prefix="speakers", initializer=number) as pool:
        for task in _schedule(needed):
            pending.add(pool.submit(run, task))
            while len(pending) >= AHEAD:
                pending = take(pending)
        while pending:
            pending = take(pending)
    return marginal, active, _embeddings(pools)


def _schedule(needed: list[int]) -> Iterator[tuple]:
    """The pool's tasks in time order: each trunk block, then the segmentation batches of the chunks it needs
    (``needed[b]``: the chunks block ``b`` waits for) not asked for yet."""
    done = 0
    for b, want in enumerate(needed):
        yield ("trunk", b)
        for first in range(done, want, BATCH):
            yield ("segment", first, min(first + BATCH, want))
        done = max(done, want)


def _embeddings(pools: dict[tuple[int, int], "_Pool"]) -> list[Local]:
    """Each pooled chunk speaker's embedding (mean and standard deviation of its trunk frames), in chunk
    order, as clustering takes them."""
    found = []
    for (c, k), sums in sorted(pools.items()):
        if sums.count < 3:
            continue
        mean = sums.total / sums.count
        std = np.sqrt(np.maximum(sums.squares / sums.count - mean ** 2, 0) * sums.count / (sums.count - 1))
        found.append(Local(c, k, networks.embedding(mean.astype(np.float32), std.astype(np.float32))))
    return found


@dataclass
class _Pool:
    """Running sums of one chunk speaker's trunk frames."""

    frames: np.ndarray  # global trunk frame indices, sorted
    total: np.ndarray = field(default_factory=lambda: np.zeros(512))
    squares: np.ndarray = field(default_factory=lambda: np.zeros(512))
    count: int = 0


def _chunk_pools(c: int, start_s: float, active: np.ndarray, duration_s: float) -> dict[tuple[int, int], _Pool]:
    """The trunk frames to pool for each local speaker of chunk ``c`` (``active``: (589, 3)) who talks alone
    long enough: those where they do. A speaker heard only briefly alone, or only in overlap, gets no embedding
    (pooled over overlap it would sit between the voices and pull clusters together); reconstruction still
    counts their speech, giving it the chunk's speaker that no embedded local speaker took."""
    pools = {}
    alone = active.sum(axis=1) == 1
    seconds = start_s + np.arange(active.shape[0]) * networks.FRAME_STEP_S + networks.FRAME_SPAN_S / 2
    heard = seconds < duration_s  # a chunk padded past the end hears nobody there
    for k in range(active.shape[1]):
        frames = np.flatnonzero(active[:, k] & alone & heard)
        if len(frames) < LEAST_ALONE:  # an embedding of overlapped speech is a blend of voices: none
            continue
        trunk = np.unique(np.round((seconds[frames] - 0.0125) / networks.TRUNK_STEP_S).astype(np.int64))
        pools[(c, k)] = _Pool(trunk[trunk >= 0])
    return pools


def _pool_block(pools: dict[tuple[int, int], _Pool], starts_s: np.ndarray, lo: int, out: np.ndarray) -> None:
    """Add the trunk frames ``out`` (512, n), the global frames from ``lo``, to the pools that take them."""
    hi, chunk_s = lo + out.shape[1], networks.CHUNK / networks.RATE
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


def _blocks(frames: int) -> list[tuple[int, int]]:
    """(first, count) filterbank frames of each pass of the trunk: 30 s each, even starts (the trunk halves
    the frame rate), and a last piece too short to stand alone joined to the one before."""
    blocks = [(first, min(BLOCK_FRAMES, frames - first)) for first in range(0, frames, BLOCK_FRAMES)]
    if len(blocks) > 1 and blocks[-1][1] < 50:
        (first, count), (_, rest) = blocks[-2], blocks.pop()
        blocks[-1] = (first, count + rest)
    return blocks
