"""Find old-photo damage with a trained damage detector (``configs/tasks/damage.yaml``): the mask that
:class:`~inpaint_lightning.inference.repair.PhotoRepairer` hands to the inpainter when the user has not painted one.

>>> detector = DamageDetector.from_checkpoint("logs/.../last.ckpt")
>>> damage = detector(Image.open("old.jpg"))        # a PIL "L" image: white = damage

The detector learnt damage drawn to the scale of ~200-320 px photos, so a larger photo is looked at with its short
side brought down to ``working_side`` and the probabilities are scaled back up; large photos still run in
overlapping tiles (:class:`~inpaint_lightning.inference.Restorer`'s). The mask is grown by ``dilate`` pixels: the
inpainter must also replace the soft edge of a scratch, which the detector's 0.5 threshold leaves out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from inpaint_lightning.data.masks import dilate_holes
from inpaint_lightning.inference.convert import to_image
from inpaint_lightning.inference.restorer import Restorer


class DamageDetector(Restorer):
    """Damage masks (1 = damage) for images of any size, type and batch (``from_checkpoint``, ``from_onnx``,
    ``from_torchscript``, ``from_file``).

    Args:
        backend: maps ``B x 3 x H x W`` to ``B x 1 x H x W`` damage logits. Use the ``from_*`` constructors.
        threshold: probability above which a pixel is damage.
        dilate: pixels the mask is grown by (0: as thresholded).
        working_side: largest short side the network looks at (None: the photo's own size).
        tile / overlap: as :class:`~inpaint_lightning.inference.Restorer`'s, at the working size.
    """

    task, channels, out_channels = "detect", 3, 1

    def __init__(
        self,
        backend: Any,
        scale: int = 1,
        tile: int | None = 512,
        overlap: int = 32,
        threshold: float = 0.5,
        dilate: int = 2,
        working_side: int | None = 512,
    ) -> None:
        if scale != 1:
            raise ValueError(f"a damage detector keeps the photo's size (scale 1), got scale {scale}")
        if not 0 < threshold < 1 or dilate < 0 or (working_side is not None and working_side < 16):
            raise ValueError(
                f"need 0 < threshold < 1, dilate >= 0 and working_side >= 16 or None; got {threshold}, {dilate}, "
                f"{working_side}"
            )
        super().__init__(backend, scale=1, tile=tile, overlap=overlap)
        self.threshold, self.dilate, self.working_side = threshold, dilate, working_side

    def __call__(self, image: Any) -> Any:
        """The damage mask of ``image``: a PIL ``L`` image for a PIL image, ``H x W`` uint8 (0/255) or float
        (0/1) for numpy (``B x H x W`` for a batch), ``[B x] 1 x H x W`` for a tensor; a list for a list."""
        if isinstance(image, (list, tuple)):
            return [self(i) for i in image]
        converted = to_image(image)
        return converted.back(self.detect_tensor(converted.image))

    def detect_tensor(self, image: Tensor) -> Tensor:
        """``B x 3 x H x W`` in [0, 1] -> ``B x 1 x H x W`` float32 in {0, 1}, grown by a disk of ``dilate`` pixels
        (:func:`~inpaint_lightning.data.masks.dilate_holes`, as ``inpaint --dilate``)."""
        mask = (self.probabilities(image) > self.threshold).float()
        if not self.dilate:
            return mask
        grown = np.stack([dilate_holes(m, self.dilate) for m in mask[:, 0].cpu().numpy()])
        return torch.from_numpy(grown)[:, None].to(mask.device)

    def probabilities(self, image: Tensor) -> Tensor:
        """``B x 3 x H x W`` in [0, 1] -> ``B x 1 x H x W`` damage probabilities."""
        image = image.float()
        h, w = image.shape[-2:]
        size = self._working_size(h, w)
        small = image if size == (h, w) else F.interpolate(image, size=size, mode="area")
        prob = self.restore_tensor(small)
        if prob.shape[-2:] != (h, w):
            prob = F.interpolate(prob, size=(h, w), mode="bilinear", align_corners=False)
        return prob

    def network_pixels(self, height: int, width: int) -> int:
        """Input pixels through the network for an ``height x width`` photo (at the working size, in tiles)."""
        return super().network_pixels(*self._working_size(height, width))

    def _working_size(self, height: int, width: int) -> tuple[int, int]:
        if self.working_side is None or min(height, width) <= self.working_side:
            return height, width
        f = self.working_side / min(height, width)
        return max(1, round(height * f)), max(1, round(width * f))

    def _finish(self, pred: Tensor) -> Tensor:
        """Logits -> probabilities, blended across tiles."""
        return torch.sigmoid(pred)
