"""Classical inpainting baselines run through the same harness: OpenCV Telea and Navier-Stokes, and
scikit-image's biharmonic inpainting. Every model table should have them beside it on identical masks."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

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


def baseline(name: str, radius: int = 3) -> Baseline:
    """``telea``, ``ns`` (OpenCV, inpainting radius ``radius``) or ``biharmonic`` (scikit-image).

    Each maps an ``H x W x 3`` uint8 RGB image and an ``H x W`` mask (1 = hole) to the filled uint8 image.
    """
    if name == "telea":
        return _opencv(cv2.INPAINT_TELEA, radius)
    if name == "ns":
        return _opencv(cv2.INPAINT_NS, radius)
    if name == "biharmonic":
        return _biharmonic
    raise ValueError(f"unknown baseline {name!r}; choose telea, ns or biharmonic")


BASELINES = ("telea", "ns", "biharmonic")
