"""The restoration objective: :class:`~inpaint_lightning.losses.objective.GANObjective` with a pixel loss over the
whole image and plain real/fake discriminator labels (no mask), as Real-ESRGAN's or ESRGAN's, LSGAN by default."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inpaint_lightning.losses.adversarial import AdversarialKind
from inpaint_lightning.losses.objective import GANObjective


def charbonnier(pred: Tensor, target: Tensor, eps: float = 1e-3) -> Tensor:
    """``mean(sqrt((pred - target)^2 + eps^2))``: L1 that is smooth at 0 (LapSRN, NAFNet's PSNR loss family)."""
    return torch.sqrt((pred - target) ** 2 + eps**2).mean()


class RestorationLoss(GANObjective):
    """Pixel + adversarial + perceptual objective for denoising, deblurring, super-resolution, JPEG, low light.

    Generator: ``pixel * Charbonnier(prediction, target)`` on every stage, plus the realism terms of
    :class:`GANObjective` on the output. The discriminator sees whole images (no condition). Defaults follow the perceptual-SR recipe (pixel 1, LPIPS-VGG 1, LSGAN 0.05).

    Args:
        pixel: weight of the Charbonnier pixel loss; ``charbonnier_eps`` its smoothing.
        Every other argument is :class:`GANObjective`'s.
    """

    def __init__(
        self,
        *,
        pixel: float = 1.0,
        charbonnier_eps: float = 1e-3,
        adversarial: AdversarialKind = "lsgan",
        adversarial_weight: float = 0.05,
        lpips_vgg: float = 1.0,
        **kwargs: Any,
    ) -> None:
        # Real-ESRGAN's defaults where they differ from GANObjective's; the rest is GANObjective's
        super().__init__(
            adversarial=adversarial, adversarial_weight=adversarial_weight, lpips_vgg=lpips_vgg, **kwargs
        )
        self.pixel, self.charbonnier_eps = pixel, charbonnier_eps

    def reconstruction(
        self, real: Tensor, stages: list[Tensor], condition: Tensor | None, inputs: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        terms = [charbonnier(s, real, self.charbonnier_eps) for s in stages]
        return self.pixel * sum(terms), {"g/pixel": terms[-1].detach()}
