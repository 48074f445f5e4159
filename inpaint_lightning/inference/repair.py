"""Old-photo repair: the two tasks chained. Inpaint the damage (scratches, tears, stains) that a mask marks, then
restore the whole photo (noise, blur, fading: a blind restoration model such as ``configs/tasks/blind.yaml``'s).
The mask is the user's, or found by a damage detector (``configs/tasks/damage.yaml``) when none is given.

>>> repairer = PhotoRepairer(Restorer.from_file("blind.onnx"), Inpainter.from_file("gan.ckpt"))
>>> repaired = repairer(Image.open("old.jpg"), Image.open("damage.png"))   # white = damage
>>> repairer = PhotoRepairer(restorer, inpainter, detector=DamageDetector.from_file("damage.ckpt"))
>>> repaired = repairer(Image.open("old.jpg"))                               # damage found by the detector

Why inpaint first (``order="inpaint_first"``, the default): a restoration model has never seen scratches and
spreads their brightness into the pixels around them, so restoring first leaves a halo outside the mask that the
inpainter keeps as "known" pixels (seen on held-out photos: ghost outlines of every scratch). Inpainting first
removes the damage, and the restorer then treats fill and photo alike, so the fill also gets the same grain
removal. ``order="restore_first"`` is the other way round. A restorer that up-scales (``scale`` > 1) works
either way (the photo is up-scaled last, or the mask is enlarged with it, nearest neighbour).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from inpaint_lightning.data.masks import fit_mask
from inpaint_lightning.inference.convert import to_image, to_mask
from inpaint_lightning.inference.detector import DamageDetector
from inpaint_lightning.inference.inpainter import Inpainter
from inpaint_lightning.inference.restorer import Restorer


class PhotoRepairer:
    """Restore a photo, then inpaint its damage.

    Args:
        restorer: the restoration model (None: inpaint only).
        inpainter: the inpainting model (None: restore only; then no mask is needed).
        order: ``inpaint_first`` (default, see above) or ``restore_first``.
        detector: finds the damage of photos given without a mask (None: a mask is needed to inpaint).
    """

    def __init__(
        self,
        restorer: Restorer | None,
        inpainter: Inpainter | None,
        order: str = "inpaint_first",
        detector: DamageDetector | None = None,
    ) -> None:
        if restorer is None and inpainter is None:
            raise ValueError("PhotoRepairer needs a restorer, an inpainter or both")
        if order not in ("inpaint_first", "restore_first"):
            raise ValueError(f"order must be 'inpaint_first' or 'restore_first', got {order!r}")
        self.restorer, self.inpainter, self.order, self.detector = restorer, inpainter, order, detector

    def __call__(self, image: Any, damage: Any = None, invert_mask: bool = False) -> Any:
        """Repair ``image`` (PIL, numpy or tensor, single or batched; same type back, ``scale`` x its size) where
        ``damage`` marks the damage (white = damage, as holes; a mask of the image's aspect ratio is resized; None:
        the detector's)."""
        converted = to_image(image)
        return converted.back(self.repair_tensor(converted.image, damage, invert_mask))

    def repair_tensor(
        self, image: torch.Tensor, damage: Any = None, invert_mask: bool = False
    ) -> torch.Tensor:
        """``B x 3 x H x W`` in [0, 1] -> repaired ``B x 3 x (scale H) x (scale W)``."""
        image = image.float()
        if self.inpainter is None:
            return self.restorer.restore_tensor(image) if self.restorer is not None else image
        if damage is None and self.detector is None:
            raise ValueError("a damage mask is needed to inpaint (white = damage), or a damage detector")
        holes = (
            to_mask(damage, invert=invert_mask) if damage is not None else self.detector.detect_tensor(image)
        )
        size = tuple(image.shape[-2:])
        if holes.shape[-2:] != size:
            holes = torch.from_numpy(np.stack([fit_mask(m, size) for m in holes[:, 0].numpy()]))[:, None]
        if self.order == "inpaint_first" or self.restorer is None:
            holes = holes.expand(image.shape[0], -1, -1, -1).to(image.device)
            filled = self.inpainter.inpaint_tensor(image, holes)
            return self.restorer.restore_tensor(filled) if self.restorer is not None else filled
        out = self.restorer.restore_tensor(image)
        if out.shape[-2:] != size:  # an up-scaling restorer: the damage grows with the photo
            holes = F.interpolate(holes.float(), size=out.shape[-2:], mode="nearest")
        holes = holes.expand(out.shape[0], -1, -1, -1).to(out.device)
        return self.inpainter.inpaint_tensor(out, holes)
