"""The inpainting GAN objective as one object with two named phases (discriminator, generator).

The LightningModule only calls ``discriminator_loss`` and ``generator_loss`` and logs what they return, so new
terms (perceptual, feature matching, R1) are added here without touching the training loop.
"""

from __future__ import annotations

from typing import get_args

from torch import Tensor, nn

from inpaint_lightning.losses.adversarial import AdversarialKind, d_loss, g_loss


def masked_l1(pred: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """``mean(|pred - target| * weight)`` over all elements (Partial Convolutions' normalisation).

    Dividing by all pixels, not by hole pixels, keeps small holes from getting huge per-pixel weights.
    """
    return ((pred - target).abs() * weight).mean()


class InpaintingLoss(nn.Module):
    """Hole/valid L1 plus an adversarial term.

    Args:
        adversarial: ``nsgan`` (non-saturating, BCE with logits), ``hinge`` or ``lsgan``.
        hole_l1: weight of L1 inside the hole.
        valid_l1: weight of L1 on the known region (of the raw prediction, before compositing).
        adversarial_weight: weight of the generator's adversarial term.
    """

    def __init__(
        self,
        adversarial: AdversarialKind = "nsgan",
        hole_l1: float = 6.0,
        valid_l1: float = 1.0,
        adversarial_weight: float = 0.1,
    ) -> None:
        super().__init__()
        if adversarial not in get_args(AdversarialKind):
            raise ValueError(f"unknown adversarial loss {adversarial!r}; choose nsgan, hinge or lsgan")
        self.adversarial = adversarial
        self.hole_l1, self.valid_l1, self.adversarial_weight = hole_l1, valid_l1, adversarial_weight

    def discriminator_loss(
        self, discriminator: nn.Module, real: Tensor, fake: Tensor, mask: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D phase: ``fake`` must be detached from the generator by the caller."""
        real_logits = discriminator(real, mask)
        fake_logits = discriminator(fake, mask)
        loss = d_loss(self.adversarial, real_logits, fake_logits)
        logs = {
            "d/loss": loss.detach(),
            "d/real_logit": real_logits.detach().mean(),
            "d/fake_logit": fake_logits.detach().mean(),
        }
        return loss, logs

    def generator_loss(
        self, discriminator: nn.Module, real: Tensor, pred: Tensor, composite: Tensor, mask: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """G phase: reconstruction of ``pred`` plus fooling the discriminator on the ``composite``."""
        hole = masked_l1(pred, real, mask)
        valid = masked_l1(pred, real, 1.0 - mask)
        adv = g_loss(self.adversarial, discriminator(composite, mask))
        loss = self.hole_l1 * hole + self.valid_l1 * valid + self.adversarial_weight * adv
        logs = {
            "g/loss": loss.detach(),
            "g/l1_hole": hole.detach(),
            "g/l1_valid": valid.detach(),
            "g/adversarial": adv.detach(),
        }
        return loss, logs


__all__ = ["InpaintingLoss", "masked_l1"]
