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


PATCHMATCH_THIN_RADIUS, PATCHMATCH_THICK_RADIUS = 3, 1
"""PatchMatch compares 7x7 patches (radius 3) in thin holes and 3x3 (radius 1) in thick ones (pypatchmatch's
default, 15, is far slower). On 24 training photos (``benchmarks/patchmatch_levers.py``) 7x7 was the best single
size on the NVIDIA masks (strokes), 3x3 the best on large free-form holes (-4.8 % LPIPS at 256 px, -3.4 % at 512;
bigger patches carry whole structures into the hole); the rule below takes each where it wins."""
PATCHMATCH_THICK_HOLE = 0.075
"""A hole is thick when the 90th percentile of its pixels' distance to the known region exceeds this share of the
image's short side (NVIDIA strokes: median 0.05; large free-form holes: 0.17). Tuned on the same photos: LPIPS
-1.9 % (256 px) / -2.4 % (512 px) on NVIDIA and -4.7 % / -3.5 % on free-form against 7x7 everywhere."""
PATCHMATCH_SEED = 0
"""Seed of PatchMatch's randomized search, set before every image: the same input gives the same fill."""


def hole_depth(hole: np.ndarray) -> float:
    """How thick a hole is: the 90th percentile of its pixels' distance to the known region, as a share of the
    image's short side (0 without a hole). ``hole``: ``H x W``, nonzero = hole."""
    hole = (np.asarray(hole) > 0).astype(np.uint8)
    if not hole.any():
        return 0.0
    depth = cv2.distanceTransform(hole, cv2.DIST_L2, 3)[hole > 0]
    return float(np.percentile(depth, 90)) / min(hole.shape)


def patchmatch_radius(hole: np.ndarray) -> int:
    """The patch radius PatchMatch uses for ``hole`` (nonzero = hole): thin or thick, ``PATCHMATCH_THICK_HOLE``."""
    return PATCHMATCH_THICK_RADIUS if hole_depth(hole) > PATCHMATCH_THICK_HOLE else PATCHMATCH_THIN_RADIUS


def _patchmatch(patch_radius: int | None) -> Baseline:
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
        size = patchmatch_radius(hole) if patch_radius is None else patch_radius
        return patchmatch.inpaint(image, hole, patch_size=size)

    return run


def baseline(name: str, radius: int = 3, patch_radius: int | None = None) -> Baseline:
    """``telea``, ``ns`` (OpenCV, inpainting radius ``radius``), ``biharmonic`` (scikit-image) or
    ``patchmatch`` (pypatchmatch, fixed seed; patches of radius ``patch_radius``, by default chosen per hole by
    :func:`patchmatch_radius`).

    Each maps an ``H x W x 3`` uint8 RGB image and an ``H x W`` mask (1 = hole) to the filled uint8 image.
    """
    if name == "telea":
        return _opencv(cv2.INPAINT_TELEA, radius)
    if name == "ns":
        return _opencv(cv2.INPAINT_NS, radius)
    if name == "biharmonic":
        return _biharmonic
    if name == "patchmatch":
        return _patchmatch(patch_radius)
    raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")


BASELINES = ("telea", "ns", "biharmonic", "patchmatch")


def describe(name: str) -> str:
    """A classical fill's settings in one line, which changes whenever its output would: benchmarks that keep
    a fill's results between runs store it beside them and recompute when it differs."""
    if name == "patchmatch":
        return (
            f"patchmatch: seed {PATCHMATCH_SEED}, patch radius {PATCHMATCH_THIN_RADIUS}, "
            f"{PATCHMATCH_THICK_RADIUS} where the hole depth exceeds {PATCHMATCH_THICK_HOLE}"
        )
    return name
