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


def _poly_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KID's kernel (Binkowski et al. 2018): ``(x . y / d + 1) ** 3``."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _kid(k_rr: np.ndarray, k_ff: np.ndarray, k_rf: np.ndarray) -> float:
    """The unbiased squared MMD from the three kernel matrices (diagonals left out of the within-set means)."""
    m, n = k_rr.shape[0], k_ff.shape[0]
    within_r = (k_rr.sum() - np.trace(k_rr)) / (m * (m - 1))
    within_f = (k_ff.sum() - np.trace(k_ff)) / (n * (n - 1))
    return float(within_r + within_f - 2.0 * k_rf.mean())


def kid_difference(
    real: np.ndarray, a: np.ndarray, b: np.ndarray, subsets: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float, float, float]:
    """KID of two methods' outputs ``a`` and ``b`` (features of the same inputs, row for row) to one ``real`` set:
    ``(kid_a, kid_b, kid_a - kid_b, low, high)``, the KIDs on the whole sets and the difference's interval at
    ``level`` over seeded half-size subsets drawn without replacement (the same real and input rows for both
    methods; half-sets spread about as much as the whole-set estimate does, a little more in the quadratic terms).
    Why paired: at the tens of photos a CPU benchmark scores, each KID's own spread is larger than the gap between
    two methods, but most of it is shared."""
    real, a, b = (np.asarray(x, np.float64) for x in (real, a, b))
    if (
        a.ndim != 2
        or a.shape != b.shape
        or a.shape[0] < 4
        or real.shape[0] < 4
        or real.shape[1:] != a.shape[1:]
    ):
        raise ValueError(
            f"need paired outputs and a real set of >= 4 rows each, got {real.shape}, {a.shape}, {b.shape}"
        )
    k_rr = _poly_kernel(real, real)
    k_a, k_b = (_poly_kernel(x, x) for x in (a, b))
    r_a, r_b = (_poly_kernel(real, x) for x in (a, b))
    kid_a, kid_b = _kid(k_rr, k_a, r_a), _kid(k_rr, k_b, r_b)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(subsets):
        r = rng.choice(real.shape[0], real.shape[0] // 2, replace=False)
        f = rng.choice(a.shape[0], a.shape[0] // 2, replace=False)
        rr = k_rr[np.ix_(r, r)]
        diffs.append(
            _kid(rr, k_a[np.ix_(f, f)], r_a[np.ix_(r, f)]) - _kid(rr, k_b[np.ix_(f, f)], r_b[np.ix_(r, f)])
        )
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return kid_a, kid_b, kid_a - kid_b, float(low), float(high)
