"""Paired comparisons of two methods scored on the same images: the mean difference with a bootstrap interval,
so a claim "A beats B" carries how sure it is at the number of photos a CPU benchmark can afford."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], resamples: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """``mean(a - b)`` over paired per-image scores and its percentile bootstrap interval at ``level``
    (images resampled with replacement, ``resamples`` times, seeded: the same numbers every run)."""
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if diff.ndim != 1 or diff.size == 0:
        raise ValueError(f"need two equal, non-empty lists of paired scores, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, (resamples, diff.size))].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(diff.mean()), float(low), float(high)
