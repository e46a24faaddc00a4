"""Chunk speakers → the file's speakers → turns (pure: numpy and scipy on the segmentation's output).

- **Clustering.** Average-linkage agglomerative clustering of the chunk speakers' embeddings under cosine
  distance, cut at ``THRESHOLD`` (or at the number of speakers asked for, or at the bounds). A long input's
  embeddings are clustered on an even sample of ``MOST_CLUSTERED`` and the rest go to the nearest centroid,
  so time and memory stay bounded.
- **Reconstruction.** Each chunk's local speakers are matched to *different* speakers (the Hungarian
  assignment on centroid similarity: two voices heard at once in a chunk are two people). Each frame of the
  file then gets, from every chunk that covers it (weighted by a Hamming window: a chunk sees its middle
  best), each speaker's probability and the expected number of people talking; the frame goes to its
  likeliest speakers, as many as that count says, two at most.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from dubber.speakers import SpeakerOptions
from dubber.speakers.networks import FRAME_SPAN_S, FRAME_STEP_S

THRESHOLD = 0.5  # cosine distance between clusters: beyond it, two voices are two people
MOST_CLUSTERED = 2000  # chunk speakers clustered together (about 40 minutes of talk); the rest are assigned
COUNT_BIAS = 0.2  # added to the expected number of speakers before rounding: the network undercounts overlap
MOST_AT_ONCE = 2


@dataclass(frozen=True)
class Local:
    """A speaker inside one chunk (``chunk``, local index ``speaker``) and their embedding."""

    chunk: int
    speaker: int
    embedding: np.ndarray


def cluster(embeddings: np.ndarray, options: SpeakerOptions) -> np.ndarray:
    """A speaker label (0, 1, ...) for each row of ``embeddings`` (unit vectors)."""
    from scipy.cluster.hierarchy import fcluster, linkage  # the speakers extra

    n = len(embeddings)
    if n == 1:
        return np.zeros(1, dtype=int)
    sample = np.linspace(0, n - 1, min(n, MOST_CLUSTERED)).round().astype(int)
    tree = linkage(embeddings[sample], method="average", metric="cosine")
    low, high = options.bounds
    labels = fcluster(tree, THRESHOLD, "distance") - 1
    if not low <= labels.max() + 1 <= high:
        labels = fcluster(tree, min(max(labels.max() + 1, low), high), "maxclust") - 1
    if len(sample) == n:
        return labels
    centres = _centroids(embeddings[sample], labels)
    return np.argmax(embeddings @ centres.T, axis=1)


def _centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    centres = np.stack([embeddings[labels == k].mean(axis=0) for k in range(labels.max() + 1)])
    return centres / np.linalg.norm(centres, axis=1, keepdims=True)


def reconstruct(starts_s: np.ndarray, marginal: np.ndarray, active: np.ndarray, chunk_speakers: Sequence[Local],
                labels: np.ndarray, duration_s: float) -> list[tuple[float, float, int]]:
    """Turns (start s, end s, speaker label) from the chunks' speaker probabilities ``marginal`` and activity
    ``active`` (both (chunks, frames, 3)), starting at ``starts_s``, and each chunk speaker's label."""
    from scipy.optimize import linear_sum_assignment  # the speakers extra

    speakers = int(labels.max()) + 1
    centres = _centroids(np.stack([s.embedding for s in chunk_speakers]), labels)
    frames = marginal.shape[1]
    total = int(np.ceil(duration_s / FRAME_STEP_S)) + 1
    score, weight, count = np.zeros((total, speakers)), np.zeros(total), np.zeros(total)
    window = np.hamming(frames) + 1e-3
    by_chunk: dict[int, list[Local]] = {}
    for s in chunk_speakers:
        by_chunk.setdefault(s.chunk, []).append(s)
    for c, start in enumerate(starts_s):
        first = int(round(start / FRAME_STEP_S))
        span = np.arange(first, first + frames)
        keep = span < total
        where, w = span[keep], window[keep]
        weight[where] += w
        count[where] += w * marginal[c, keep].sum(axis=1)
        own = by_chunk.get(c, [])
        if not own:
            continue
        rows, cols = linear_sum_assignment(-np.stack([centres @ s.embedding for s in own]))
        for row, col in zip(rows, cols):
            score[where, col] += w * marginal[c, keep, own[row].speaker]
    seen = weight > 0
    score[seen] /= weight[seen, None]
    count[seen] /= weight[seen]
    talking = np.minimum(np.floor(count + 0.5 + COUNT_BIAS).astype(int), min(speakers, MOST_AT_ONCE))
    order = np.argsort(-score, axis=1)
    on = np.zeros((total, speakers), dtype=bool)
    for rank in range(min(speakers, MOST_AT_ONCE)):
        rows = np.flatnonzero(talking > rank)
        on[rows, order[rows, rank]] = True
    return _runs(on, duration_s)


def _runs(on: np.ndarray, duration_s: float) -> list[tuple[float, float, int]]:
    """Each speaker's runs of frames as (start s, end s, speaker), at the frames' centres, in time order."""
    turns = []
    for k in range(on.shape[1]):
        edges = np.diff(np.concatenate([[0], on[:, k].astype(np.int8), [0]]))
        for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            start = max(0.0, first * FRAME_STEP_S + FRAME_SPAN_S / 2)
            end = min(duration_s, last * FRAME_STEP_S + FRAME_SPAN_S / 2)
            if end > start:
                turns.append((start, end, k))
    return sorted(turns)
