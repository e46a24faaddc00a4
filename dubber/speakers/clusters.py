"""Chunk speakers → the file's speakers → turns (pure: numpy and scipy on the segmentation's output), by
pyannote.audio 3.1's rules.

- **Clustering.** Agglomerative clustering of the chunk speakers' unit embeddings (average linkage,
  Euclidean distance, cut at ``THRESHOLD``). Clusters smaller than pyannote's minimum cluster size (12, or a
  tenth of the chunk speakers if fewer) are not speakers of their own: they join the nearest large one. A
  number of speakers asked for (or bounds) moves the cut along the tree until that many large clusters
  remain. A long input's chunk speakers are clustered on an even sample of ``MOST_CLUSTERED``: only the
  clusters' centroids are needed after this, so time and memory stay bounded.
- **Reconstruction.** Each chunk's local speakers are matched to *different* speakers (the Hungarian
  assignment on centroid similarity: two voices heard at once in a chunk are two people); a local speaker
  without an embedding (too little speech alone) gets, as in pyannote, a speaker the others did not take.
  Each frame of the file then gets, from every chunk that covers it, each speaker's votes (the chunks' hard
  activity, their probabilities breaking ties) and the expected number of people talking (the chunks'
  probabilities, averaged); the number of speakers at a frame is how many of ``COUNT_STEPS`` that
  expectation passes, and the frame goes to that many of its most voted speakers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from dubber.speakers import SpeakerOptions
from dubber.speakers.networks import FRAME_SPAN_S, FRAME_STEP_S

THRESHOLD = 0.95  # Euclidean distance between unit embeddings (cosine similarity 0.55): beyond it, two people
MIN_CLUSTER, MIN_CLUSTER_SHARE = 12, 0.1  # pyannote 3.1's minimum cluster size
MOST_CLUSTERED = 3000  # chunk speakers clustered together (50 minutes of talk); the rest only use the centroids
# The expected number of people talking above which 1, 2, 3 are: tuned on five development meetings
# (benchmarks/speakers_bench.py) and checked on five others.
COUNT_STEPS = (0.35, 1.1, 2.5)


@dataclass(frozen=True)
class Local:
    """A speaker inside one chunk (``chunk``, local index ``speaker``) and their unit embedding."""

    chunk: int
    speaker: int
    embedding: np.ndarray


def cluster(embeddings: np.ndarray, options: SpeakerOptions) -> np.ndarray:
    """The unit centroids of the speakers that ``embeddings`` (unit rows) cluster into."""
    from scipy.cluster.hierarchy import fcluster, linkage  # the speakers extra

    sample = embeddings[np.linspace(0, len(embeddings) - 1, min(len(embeddings), MOST_CLUSTERED)).round().astype(int)]
    if len(sample) == 1:
        return sample.copy()
    least = min(MIN_CLUSTER, max(1, round(MIN_CLUSTER_SHARE * len(sample))))
    tree = linkage(sample, method="average", metric="euclidean")
    labels = fcluster(tree, THRESHOLD, "distance") - 1
    low, high = options.bounds
    large = _large(labels, least)
    if not low <= len(large) <= high:
        want = min(max(len(large), low), high)
        labels = _cut_for(tree, len(sample), want, least)
        large = _large(labels, least)
    if not len(large):
        return _unit(sample.mean(axis=0, keepdims=True))
    means = {k: sample[labels == k].mean(axis=0) for k in np.unique(labels)}
    big = _unit(np.stack([means[k] for k in large]))
    for k in set(means) - set(large.tolist()):  # a small cluster joins the large one nearest its mean
        labels[labels == k] = large[int(np.argmax(big @ _unit(means[k][None])[0]))]
    return _unit(np.stack([sample[labels == k].mean(axis=0) for k in large]))


def _large(labels: np.ndarray, least: int) -> np.ndarray:
    found, sizes = np.unique(labels, return_counts=True)
    return found[sizes >= least]


def _cut_for(tree: np.ndarray, n: int, want: int, least: int) -> np.ndarray:
    """Labels of the cut of ``tree`` whose number of large clusters is nearest ``want`` (the fewest clusters
    in all on a tie)."""
    from scipy.cluster.hierarchy import fcluster

    best, best_gap = None, None
    for clusters in range(1, n + 1):
        labels = fcluster(tree, clusters, "maxclust") - 1
        gap = abs(len(_large(labels, least)) - want)
        if best_gap is None or gap < best_gap:
            best, best_gap = labels, gap
        if gap == 0:
            break
    return best


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-8)


def reconstruct(starts_s: np.ndarray, marginal: np.ndarray, active: np.ndarray, chunk_speakers: Sequence[Local],
                centres: np.ndarray, duration_s: float, options: SpeakerOptions) -> list[tuple[float, float, int]]:
    """Turns (start s, end s, speaker) from the chunks' speaker probabilities ``marginal`` and activity
    ``active`` (both (chunks, frames, 3)) starting at ``starts_s``, given the speakers' ``centres``."""
    from scipy.optimize import linear_sum_assignment  # the speakers extra

    speakers, frames = len(centres), marginal.shape[1]
    total = int(np.ceil(duration_s / FRAME_STEP_S)) + 1
    votes, weight, expected = np.zeros((total, speakers), np.float32), np.zeros(total), np.zeros(total)
    by_chunk: dict[int, list[Local]] = {}
    for s in chunk_speakers:
        by_chunk.setdefault(s.chunk, []).append(s)
    for c, start in enumerate(starts_s):
        first = int(round(start / FRAME_STEP_S))
        span = np.arange(first, first + frames)
        keep = span < total
        where = span[keep]
        soft = marginal[c, keep].astype(np.float32)
        weight[where] += 1
        expected[where] += soft.sum(axis=1)
        embedded = {s.speaker: s.embedding for s in by_chunk.get(c, [])}
        talks = active[c, keep].any(axis=0)
        heard = [k for k in range(active.shape[2]) if k in embedded or talks[k]]
        if not heard or not embedded:
            continue
        # a local speaker without an embedding is least like every speaker: it takes one left by the others
        similarity = np.stack([centres @ embedded[k] if k in embedded else np.full(speakers, -2.0) for k in heard])
        matched = dict(zip(*linear_sum_assignment(-similarity)))
        for row, k in enumerate(heard):  # more local speakers than speakers: the likeliest, shared
            if row not in matched and k not in embedded:  # no speaker left for one without an embedding
                continue
            votes[where, matched.get(row, int(np.argmax(similarity[row])))] += \
                active[c, keep, k] + 0.01 * soft[:, k]
    seen = weight > 0
    expected[seen] /= weight[seen]
    talking = sum((expected > step).astype(int) for step in COUNT_STEPS)
    talking = np.minimum(talking, min(speakers, options.bounds[1]))
    order = np.argsort(-votes, axis=1, kind="stable")
    on = np.zeros((total, speakers), dtype=bool)
    for rank in range(int(talking.max(initial=0))):
        rows = np.flatnonzero(talking > rank)
        on[rows, order[rows, rank]] = True
    return _runs(on, duration_s)


def _runs(on: np.ndarray, duration_s: float) -> list[tuple[float, float, int]]:
    """Each speaker's runs of frames as (start s, end s, speaker), each frame standing for the step around
    its centre, in time order."""
    offset = FRAME_SPAN_S / 2 - FRAME_STEP_S / 2
    turns = []
    for k in range(on.shape[1]):
        edges = np.diff(np.concatenate([[0], on[:, k].astype(np.int8), [0]]))
        for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            start, end = max(0.0, first * FRAME_STEP_S + offset), min(duration_s, last * FRAME_STEP_S + offset)
            if end > start:
                turns.append((start, end, k))
    return sorted(turns)
