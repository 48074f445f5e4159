"""The one compositing rule of the project: known pixels are kept exactly, the hole takes the prediction."""

from __future__ import annotations

from torch import Tensor


def composite(pred: Tensor, image: Tensor, mask: Tensor) -> Tensor:
    """``mask * clamp(pred, 0, 1) + (1 - mask) * image`` (mask: 1 = hole)."""
    return mask * pred.clamp(0.0, 1.0) + (1.0 - mask) * image
