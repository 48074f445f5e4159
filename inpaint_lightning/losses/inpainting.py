"""The inpainting objective: :class:`~inpaint_lightning.losses.objective.GANObjective` with L1 in the hole and on
the known region (every stage of coarse-to-fine generators), mask-aware discriminator labels and hole TV."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from inpaint_lightning.losses.objective import GANObjective


def masked_l1(pred: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """``mean(|pred - target| * weight)`` over all elements (Partial Convolutions' normalisation).

    Dividing by all pixels, not by hole pixels, keeps small holes from getting huge per-pixel weights.
    """
    return ((pred - target).abs() * weight).mean()


def hole_total_variation(image: Tensor, mask: Tensor) -> Tensor:
    """Mean absolute difference of neighbouring pixels inside the hole grown by one pixel (smooths seams)."""
    region = F.max_pool2d(mask, 3, stride=1, padding=1)
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs() * region[..., :, 1:]
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs() * region[..., 1:, :]
    return dx.mean() + dy.mean()


class InpaintingLoss(GANObjective):
    """Reconstruction + adversarial + perceptual objective for inpainting (LaMa / DeepFill v2 / PConv terms).

    Generator: ``hole_l1 * L1_hole + valid_l1 * L1_valid (+ stage_l1 * the same on earlier stages)`` plus the
    realism terms of :class:`GANObjective` on the composite, ``+ tv * TV`` in the hole. Its condition is the hole
    mask (1 = hole). Every other argument is :class:`GANObjective`'s.

    Args:
        mask_aware: label a fake's known-region patches real in the discriminator loss (LaMa).
        hole_l1 / valid_l1: L1 inside the hole / on the known region of the raw prediction.
        stage_l1: multiplier of hole/valid L1 on earlier stages of multi-stage generators (DeepFill's coarse).
        tv: total variation on the hole grown by a pixel.
    """

    def __init__(
        self,
        *,
        mask_aware: bool = True,
        hole_l1: float = 6.0,
        valid_l1: float = 1.0,
        stage_l1: float = 1.0,
        tv: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)  # GANObjective's own arguments and defaults (the config shows them all)
        self.hole_l1, self.valid_l1, self.stage_l1, self.tv = hole_l1, valid_l1, stage_l1, tv
        self.mask_aware = mask_aware

    def fake_labels(self, condition: Tensor | None) -> Tensor | None:
        """The (augmented) hole mask: a fake's known pixels are real ones (``mask_aware``)."""
        return condition if self.mask_aware else None

    def reconstruction(
        self, real: Tensor, stages: list[Tensor], condition: Tensor | None, inputs: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        mask = condition
        if mask is None:
            raise ValueError("InpaintingLoss needs the batch's hole mask")
        pred = stages[-1]
        hole, valid = masked_l1(pred, real, mask), masked_l1(pred, real, 1.0 - mask)
        loss = self.hole_l1 * hole + self.valid_l1 * valid
        logs = {"g/l1_hole": hole.detach(), "g/l1_valid": valid.detach()}
        if len(stages) > 1 and self.stage_l1:
            early = sum(
                self.hole_l1 * masked_l1(s, real, mask) + self.valid_l1 * masked_l1(s, real, 1.0 - mask)
                for s in stages[:-1]
            )
            loss = loss + self.stage_l1 * early
            logs["g/l1_stages"] = early.detach()
        return loss, logs

    def regularizers(
        self, output: Tensor, condition: Tensor | None
    ) -> tuple[Tensor | None, dict[str, Tensor]]:
        if not self.tv or condition is None:
            return None, {}
        tv = hole_total_variation(output, condition)
        return self.tv * tv, {"g/tv": tv.detach()}


__all__ = ["InpaintingLoss", "hole_total_variation", "masked_l1"]
