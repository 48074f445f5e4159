"""Classical (not learned) hole fills: OpenCV Telea and Navier-Stokes, scikit-image's biharmonic inpainting,
and PatchMatch (PyPI ``pypatchmatch``), which copies texture from the known part of the image like Content-Aware
Fill. The evaluation runs them as baselines beside every model on identical masks
(:mod:`inpaint_lightning.evaluation` re-exports them); generators use PatchMatch as a pre-fill."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from inpaint_lightning.errors import StartupError

Baseline = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _opencv(flag: int, radius: int) -> Baseline:
    def run(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        hole = (mask > 0.5).astype(np.uint8)
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        return cv2.cvtColor(cv2.inpaint(bgr, hole, radius, flag), cv2.COLOR_BGR2RGB)

    return run


def _biharmonic(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    hole = mask > 0.5
    if not hole.any():
        return image.copy()
    out = inpaint_biharmonic(image.astype(np.float64) / 255.0, hole, channel_axis=-1)
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


PATCHMATCH_PATCH_RADIUS = 3
"""PatchMatch compares 7x7 patches (radius 3), as pypatchmatch's examples do; its default, 15, is far slower.
3x3 looked better on large holes of 24 training photos, but not on the held-out ones, and 7x7 stays the best
single size on NVIDIA's masks (``benchmarks/patchmatch_levers.py``, docs/benchmarks.md)."""
PATCHMATCH_SEED = 0
"""Seed of PatchMatch's randomized search, set before every image: the same input gives the same fill."""


def _patchmatch() -> Baseline:
    try:
        import patchmatch
    except ImportError as err:  # pypatchmatch 2 (prebuilt wheels) needs Python >= 3.11
        raise StartupError(
            f"the patchmatch baseline needs the pypatchmatch package (Python >= 3.11): {err}"
        ) from err
    if not patchmatch.patchmatch_available:
        raise StartupError("pypatchmatch is installed without its native library; reinstall it from a wheel")

    def run(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        hole = (mask > 0.5).astype(np.uint8)
        patchmatch.set_random_seed(PATCHMATCH_SEED)  # process-wide state: set it for every call
        return patchmatch.inpaint(image, hole, patch_size=PATCHMATCH_PATCH_RADIUS)

    return run


def baseline(name: str, radius: int = 3) -> Baseline:
    """``telea``, ``ns`` (OpenCV, inpainting radius ``radius``), ``biharmonic`` (scikit-image) or
    ``patchmatch`` (pypatchmatch, 7x7 patches, fixed seed; ``radius`` does not apply).

    Each maps an ``H x W x 3`` uint8 RGB image and an ``H x W`` mask (1 = hole) to the filled uint8 image.
    """
    if name == "telea":
        return _opencv(cv2.INPAINT_TELEA, radius)
    if name == "ns":
        return _opencv(cv2.INPAINT_NS, radius)
    if name == "biharmonic":
        return _biharmonic
    if name == "patchmatch":
        return _patchmatch()
    raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")


BASELINES = ("telea", "ns", "biharmonic", "patchmatch")


def describe(name: str) -> str:
    """A classical fill's settings that this project chooses, in one line: benchmarks that keep a fill's results
    between runs store it beside them and recompute when it differs (a new OpenCV or pypatchmatch release is not
    in it: use a fresh results folder after upgrading them)."""
    if name == "patchmatch":
        return f"patchmatch: seed {PATCHMATCH_SEED}, patch radius {PATCHMATCH_PATCH_RADIUS}"
    return name
