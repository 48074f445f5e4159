"""Any image size: padding to the model's multiple, and windows around the holes of large photos.

* :func:`pad_to_multiple` (:mod:`inpaint_lightning.models.layers`' one padding, re-exported) pads bottom/right with reflection (replication where the image is too small to
  reflect) up to a multiple of the model's ``size_multiple`` and at least ``min_size``; the result is cropped
  back with ``[..., :h, :w]``.
* :func:`hole_windows` finds the rectangles to inpaint in ``crop`` mode: each connected hole's bounding box grown
  by a context margin on every side (clipped to the image), overlapping rectangles merged, so a 4000 x 3000 photo
  with a small hole runs the network on a few hundred pixels instead of 12 megapixels.
* :func:`shrink_size` gives the size a window is resized to when it is larger than the model's working
  resolution; the prediction is resized back and only the hole is pasted, so known pixels never change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from inpaint_lightning.models.layers import pad_to, pad_to_multiple, padded_size  # noqa: F401 - re-exported

#: Above this many separate holes, one window around all of them (cheaper than merging many rectangles).
MAX_WINDOWS = 64


def probe_min_side(
    model: Callable[[Tensor], Tensor], multiple: int, device: torch.device | str = "cpu", channels: int = 4
) -> int:
    """The smallest square side (a power-of-two multiple of ``multiple``) that ``model`` accepts: reflect-padded
    convolutions need at least 2 pixels at the coarsest level, so e.g. 16 for a model downsampling 8 times."""
    side = max(1, int(multiple))
    while True:
        try:
            with torch.no_grad():
                model(torch.zeros(1, channels, side, side, device=device))
            return side
        except Exception:
            if side >= 1024:
                raise
            side *= 2


@dataclass(frozen=True)
class Window:
    """A rectangle of the image: rows ``top:bottom``, columns ``left:right``."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    def overlaps(self, other: Window) -> bool:
        return (
            self.top < other.bottom
            and other.top < self.bottom
            and self.left < other.right
            and other.left < self.right
        )

    def union(self, other: Window) -> Window:
        return Window(
            min(self.top, other.top),
            min(self.left, other.left),
            max(self.bottom, other.bottom),
            max(self.right, other.right),
        )


def _grow(box: Window, h: int, w: int, margin_ratio: float, min_margin: int) -> Window:
    margin = max(int(min_margin), round(margin_ratio * max(box.height, box.width)))
    return Window(
        max(0, box.top - margin),
        max(0, box.left - margin),
        min(h, box.bottom + margin),
        min(w, box.right + margin),
    )


def _merge(windows: list[Window]) -> list[Window]:
    merged = list(windows)
    changed = True
    while changed:
        changed = False
        out: list[Window] = []
        for win in merged:
            for i, kept in enumerate(out):
                if kept.overlaps(win):
                    out[i] = kept.union(win)
                    changed = True
                    break
            else:
                out.append(win)
        merged = out
    return sorted(merged, key=lambda b: (b.top, b.left))


def hole_windows(mask: Tensor | np.ndarray, margin_ratio: float = 1.0, min_margin: int = 64) -> list[Window]:
    """Rectangles that cover every hole pixel of ``mask`` (``H x W``, nonzero = hole) with context around it.

    Each connected hole (8-connectivity) gets its bounding box grown by ``max(min_margin, margin_ratio *
    longer box side)`` pixels on every side, clipped to the image; overlapping rectangles are merged until none
    overlap, so every hole pixel lies in exactly one window and a window's context holds no other window's hole.
    No hole: an empty list.
    """
    if isinstance(mask, Tensor):
        mask = mask.detach().to("cpu", torch.float32).numpy()
    binary = (np.asarray(mask) > 0).astype(np.uint8)
    h, w = binary.shape
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    boxes = [
        Window(int(y), int(x), int(y + bh), int(x + bw))
        for x, y, bw, bh, _ in stats[1:]  # row 0 is the background
    ]
    if not boxes:
        return []
    if len(boxes) > MAX_WINDOWS:
        union = boxes[0]
        for box in boxes[1:]:
            union = union.union(box)
        boxes = [union]
    return _merge([_grow(box, h, w, margin_ratio, min_margin) for box in boxes])


def shrink_size(h: int, w: int, working_size: int | None) -> tuple[int, int]:
    """(h, w) scaled so the longer side is at most ``working_size`` (unchanged when already small or None)."""
    if working_size is None or max(h, w) <= working_size:
        return h, w
    scale = working_size / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def downscale(image: Tensor, mask: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Image and mask at ``size`` for the network: the mask grows (any hole in a cell makes the cell a hole)
    and the image is averaged over known pixels only, so no colour from inside the hole leaks into the input."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image, mask
    known = 1.0 - mask
    weight = F.interpolate(known, size=size, mode="area")
    small = F.interpolate(image * known, size=size, mode="area") / weight.clamp_min(1e-6)
    small_mask = (F.interpolate(mask, size=size, mode="area") > 0).to(image.dtype)
    return small * (1.0 - small_mask), small_mask
