"""Hole masks: float32 ``H x W`` arrays in {0, 1} where **1 = hole** (LaMa / diffusers / IOPaint convention).

A mask source is called as ``source(height, width, rng, index, train)``. ``rng`` is seeded per sample by the
dataset (random in training, fixed by ``index`` in validation/test); ``index`` and ``train`` let file-based
sources pair files with samples one-to-one in evaluation.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np

from inpaint_lightning.data.io import filter_readable, list_images, read_mask
from inpaint_lightning.errors import DataNotFoundError


class MaskSizeError(ValueError):
    """A mask whose shape cannot belong to its image (another aspect ratio)."""


def fit_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``mask`` (``H x W``) at the image size ``size = (h, w)``: the one mask-size policy of the API, the
    ``inpaint``/``evaluate`` commands and the service.

    The same size is used as is. A mask of the image's aspect ratio (within one pixel), e.g. one painted on a
    preview, is resized with nearest neighbour, so it stays binary. Another aspect ratio means the mask belongs to
    another image: :class:`MaskSizeError` (the API raises it, the service answers 422, the folder commands skip
    that image with a warning naming it).
    """
    h, w = size
    mh, mw = mask.shape[:2]
    if (mh, mw) == (h, w):
        return mask
    if abs(mh * w / mw - h) > 1.0 and abs(mw * h / mh - w) > 1.0:
        raise MaskSizeError(
            f"mask is {mw} x {mh} but image is {w} x {h} (W x H): another aspect ratio, so another image's mask"
        )
    return cv2.resize(np.ascontiguousarray(mask), (w, h), interpolation=cv2.INTER_NEAREST)


def dilate_holes(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Grow every hole of ``mask`` (``H x W``, values above 0.5 = hole) by ``pixels``.

    A pixel becomes hole when it lies within Euclidean distance ``pixels`` of a hole pixel: dilation by a disk of
    radius ``pixels`` (a single-pixel hole becomes the disk ``dy**2 + dx**2 <= pixels**2``), computed with an
    exact distance transform so the cost does not grow with the radius. ``pixels=0`` returns ``mask`` itself;
    otherwise the result is float32 in {0, 1}. Used by the Inpainter's ``dilate`` (and so by ``inpaint --dilate``
    and ``serve --dilate``).
    """
    if pixels < 0:
        raise ValueError(f"dilate must be >= 0 pixels, got {pixels}")
    if pixels == 0:
        return mask
    known = (np.asarray(mask) <= 0.5).astype(np.uint8)  # distances are measured to the nearest 0 = hole pixel
    distance = cv2.distanceTransform(known, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return (distance <= pixels).astype(np.float32)


class MaskSource(ABC):
    """Base of everything that returns a hole mask for an image of a given size."""

    #: True when the mask must go through the image's geometric augmentation (masks from files); generated
    #: masks are drawn at the final size instead, which keeps their hole-area range exact.
    geometric: bool = False

    @abstractmethod
    def __call__(
        self, height: int, width: int, rng: np.random.Generator, index: int = 0, train: bool = True
    ) -> np.ndarray:
        """A float32 ``height x width`` mask in {0, 1}, 1 = hole."""


class FreeFormMasks(MaskSource):
    """Free-form brush strokes plus rectangles, as in DeepFill v2 / LaMa training masks.

    Sizes are fractions of the image's short side, so one config works from 32 px tests to 512 px training.
    A mask is redrawn (up to ``max_tries`` times) until its hole fraction lies in ``hole_range``; the draw
    closest to the range is kept otherwise, so the loop always ends.

    Args:
        strokes: (min, max) number of brush strokes.
        vertices: (min, max) vertices per stroke; each segment is one brush movement.
        stroke_width: (min, max) brush width as a fraction of the short side.
        stroke_length: (min, max) length of one segment as a fraction of the short side.
        boxes: (min, max) number of rectangles.
        box_size: (min, max) rectangle side as a fraction of the image side.
        hole_range: accepted (min, max) fraction of pixels that are hole.
        max_tries: redraws before giving up on ``hole_range``.
    """

    geometric = False

    def __init__(
        self,
        strokes: tuple[int, int] = (1, 4),
        vertices: tuple[int, int] = (4, 12),
        stroke_width: tuple[float, float] = (0.04, 0.12),
        stroke_length: tuple[float, float] = (0.05, 0.25),
        boxes: tuple[int, int] = (0, 2),
        box_size: tuple[float, float] = (0.1, 0.4),
        hole_range: tuple[float, float] = (0.05, 0.5),
        max_tries: int = 20,
    ) -> None:
        for name, (lo, hi) in dict(
            strokes=strokes,
            vertices=vertices,
            stroke_width=stroke_width,
            stroke_length=stroke_length,
            boxes=boxes,
            box_size=box_size,
            hole_range=hole_range,
        ).items():
            if lo > hi or lo < 0:
                raise ValueError(
                    f"FreeFormMasks.{name} must be (min, max) with 0 <= min <= max, got {(lo, hi)}"
                )
        if hole_range[1] > 1:
            raise ValueError(f"FreeFormMasks.hole_range must lie in [0, 1], got {hole_range}")
        if strokes[1] == 0 and boxes[1] == 0:
            raise ValueError("FreeFormMasks needs at least one stroke or one box")
        self.strokes, self.vertices = strokes, vertices
        self.stroke_width, self.stroke_length = stroke_width, stroke_length
        self.boxes, self.box_size = boxes, box_size
        self.hole_range, self.max_tries = hole_range, max_tries

    def _draw(self, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        mask = np.zeros((h, w), np.uint8)
        short = min(h, w)
        for _ in range(rng.integers(self.strokes[0], self.strokes[1] + 1)):
            width = max(1, round(rng.uniform(*self.stroke_width) * short))
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            angle = rng.uniform(0, 2 * math.pi)
            for _ in range(rng.integers(self.vertices[0], self.vertices[1] + 1)):
                angle += rng.uniform(-math.pi / 2, math.pi / 2)  # smooth, wandering strokes
                length = rng.uniform(*self.stroke_length) * short
                nx = float(np.clip(x + length * math.cos(angle), 0, w - 1))
                ny = float(np.clip(y + length * math.sin(angle), 0, h - 1))
                cv2.line(mask, (round(x), round(y)), (round(nx), round(ny)), 1, width)
                cv2.circle(mask, (round(nx), round(ny)), width // 2, 1, -1)
                x, y = nx, ny
        for _ in range(rng.integers(self.boxes[0], self.boxes[1] + 1)):
            bh = max(1, round(rng.uniform(*self.box_size) * h))
            bw = max(1, round(rng.uniform(*self.box_size) * w))
            top, left = rng.integers(0, h - bh + 1), rng.integers(0, w - bw + 1)
            mask[top : top + bh, left : left + bw] = 1
        return mask.astype(np.float32)

    def __call__(
        self, height: int, width: int, rng: np.random.Generator, index: int = 0, train: bool = True
    ) -> np.ndarray:
        lo, hi = self.hole_range
        best, best_gap = None, math.inf
        for _ in range(self.max_tries):
            mask = self._draw(height, width, rng)
            ratio = float(mask.mean())
            gap = max(lo - ratio, ratio - hi, 0.0)
            if gap == 0.0:
                return mask
            if gap < best_gap:
                best, best_gap = mask, gap
        assert best is not None
        return best


class FolderMasks(MaskSource):
    """Masks read from a folder of mask images (any size, any grey levels).

    Files are resized with nearest neighbour to the image, thresholded at ``threshold`` and optionally inverted
    (for sets where black marks the hole). Training draws a random file; validation/test use file
    ``index % count``, so every epoch and every run pairs the same image with the same mask. Sets sorted by hole
    size (like NVIDIA's irregular masks) would pair a short validation split with the smallest holes only:
    ``shuffle_seed`` pairs through a fixed permutation of the files instead.
    """

    geometric = True

    def __init__(
        self, root: str, invert: bool = False, threshold: float = 0.5, shuffle_seed: int | None = None
    ) -> None:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise DataNotFoundError(f"Mask folder not found: {path}")
        self.files = filter_readable(list_images(path), kind="mask")
        if not self.files:
            raise DataNotFoundError(f"Mask folder contains no readable mask images: {path}")
        self.root, self.invert, self.threshold = path, invert, threshold
        if shuffle_seed is not None:
            order = np.random.default_rng(shuffle_seed).permutation(len(self.files))
            self.files = [self.files[i] for i in order]

    def __len__(self) -> int:
        return len(self.files)

    def __call__(
        self, height: int, width: int, rng: np.random.Generator, index: int = 0, train: bool = True
    ) -> np.ndarray:
        i = int(rng.integers(len(self.files))) if train else index % len(self.files)
        return read_mask(self.files[i], size=(height, width), invert=self.invert, threshold=self.threshold)
