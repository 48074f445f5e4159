"""How a clean image is corrupted: the swappable piece that makes a task inpainting (or, later, restoration).

A corruption turns a clean image into the network's input and a mask of where the output is trusted:
``mask * prediction + (1 - mask) * clean`` is what metrics and images see. Inpainting masks a hole; a restoration
corruption (noise, blur, scratches, low light) would damage the whole image and return ``mask = 1`` everywhere.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import Tensor

from inpaint_lightning.data.masks import FreeFormMasks, MaskSource


class Corruption(ABC):
    """Base of every corruption (see :class:`HoleCorruption`)."""

    def spatial_target(
        self, height: int, width: int, rng: np.random.Generator, index: int, train: bool
    ) -> np.ndarray | None:
        """An ``H x W`` array to push through the image's geometric augmentation (e.g. a mask file), or None."""
        return None

    @abstractmethod
    def __call__(
        self, image: Tensor, rng: np.random.Generator, index: int, train: bool, target: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Corrupt a clean ``3 x H x W`` image in [0, 1]; return ``masked`` (3xHxW) and ``mask`` (1xHxW)."""


class HoleCorruption(Corruption):
    """Cut holes: ``masked = image * (1 - mask) + fill * mask`` with masks from any :class:`MaskSource`.

    Args:
        masks: where holes come from (free-form generator by default, or :class:`FolderMasks`).
        fill: value written into the hole of the input (0 = black, as LaMa).
    """

    def __init__(self, masks: MaskSource | None = None, fill: float = 0.0) -> None:
        self.masks: MaskSource = masks if masks is not None else FreeFormMasks()
        self.fill = fill

    def spatial_target(
        self, height: int, width: int, rng: np.random.Generator, index: int, train: bool
    ) -> np.ndarray | None:
        if self.masks.geometric:
            return self.masks(height, width, rng, index, train)
        return None

    def __call__(
        self, image: Tensor, rng: np.random.Generator, index: int, train: bool, target: Tensor | None = None
    ) -> dict[str, Tensor]:
        if target is None:
            target = torch.from_numpy(self.masks(image.shape[-2], image.shape[-1], rng, index, train))
        mask = (target.float() > 0.5).float().reshape(1, *image.shape[-2:])
        masked = image * (1.0 - mask) + self.fill * mask
        return {"masked": masked, "mask": mask}
