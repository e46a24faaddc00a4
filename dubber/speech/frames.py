"""Reading a track in equal rows of samples, a block at a time: what every detector is fed.

Blocks hold whole rows, so a detector sees the same rows in the same order whatever the block size, and
only a block of samples is in memory at once (the track is usually a ``dubber.media.audio.PcmFile``, which
reads each slice from the decode on disk).
"""
from __future__ import annotations

from typing import Iterator, Protocol

import numpy as np


class Samples(Protocol):
    """A mono int16 track that can be sliced: an ``np.ndarray``, or a ``PcmFile`` that reads from disk."""

    def __len__(self) -> int: ...

    def __getitem__(self, key: slice, /) -> np.ndarray: ...


def iter_rows(pcm: Samples, size: int, block_samples: int) -> Iterator[np.ndarray]:
    """The track as int16 arrays of shape ``(rows, size)``, about ``block_samples`` at a time; the last row
    is zero-padded, so there are ``ceil(len(pcm) / size)`` rows in all."""
    step = max(1, block_samples // size) * size
    for start in range(0, len(pcm), step):
        block = np.asarray(pcm[start:start + step], dtype=np.int16)
        short = -len(block) % size
        if short:
            block = np.concatenate([block, np.zeros(short, dtype=np.int16)])
        yield block.reshape(-1, size)
