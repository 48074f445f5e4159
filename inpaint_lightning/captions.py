"""Column captions drawn into image grids, so a PNG or W&B panel says which column is which on its own."""

from __future__ import annotations

import cv2
import numpy as np

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def caption_strip(labels: list[str], column_width: int, gap: int, height: int | None = None) -> np.ndarray:
    """A white ``height x W x 3`` uint8 strip with ``labels`` centred over columns of ``column_width`` pixels
    separated by ``gap`` pixels (``W = n * column_width + (n - 1) * gap``); text shrinks to fit its column."""
    n = len(labels)
    height = height or max(12, min(24, column_width // 6))
    strip = np.full((height, n * column_width + (n - 1) * gap, 3), 255, np.uint8)
    for i, label in enumerate(labels):
        scale = height / 40
        (w, h), _ = cv2.getTextSize(label, _FONT, scale, 1)
        if w > column_width - 4:
            scale *= (column_width - 4) / w
            (w, h), _ = cv2.getTextSize(label, _FONT, scale, 1)
        left = i * (column_width + gap) + max(0, (column_width - w) // 2)
        cv2.putText(strip, label, (left, (height + h) // 2), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return strip
