"""The inpainting GAN objective as one object with two named phases (discriminator, generator).

The LightningModule only calls :meth:`InpaintingLoss.discriminator_loss` and
:meth:`InpaintingLoss.generator_loss` and logs what they return, so every term here is chosen and weighted in
YAML without touching the training loop. A weight of 0 switches a term off (and skips its computation).
"""

from __future__ import annotations

from typing import get_args

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.losses.adversarial import (
    AdversarialKind,
    d_loss,
    feature_matching,
    g_loss,
    r1_penalty,
)
from inpaint_lightning.losses.augment import DiffAugment
from inpaint_lightning.losses.perceptual import LpipsVggLoss, VGGFeatures, VggName, perceptual_and_style
from inpaint_lightning.models.discriminators import DiscriminatorOutput


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


class InpaintingLoss(nn.Module):
    """Reconstruction + adversarial + perceptual objective (LaMa / DeepFill v2 / PConv terms, all weighted).

    Generator: ``hole_l1 * L1_hole + valid_l1 * L1_valid (+ stage_l1 * the same on earlier stages)
    + adversarial_weight * adv + feature_matching * FM + perceptual * VGG + style * Gram + tv * TV``.
    Discriminator: adversarial loss (mask-aware if ``mask_aware``) ``+ r1_gamma / 2 * R1`` every
    ``r1_interval`` steps, scaled by the interval (lazy regularisation, StyleGAN2).

    Args:
        adversarial: ``nsgan`` (non-saturating), ``hinge`` or ``lsgan``.
        adversarial_weight: weight of the generator's adversarial term.
        mask_aware: label a fake's known-region patches real in the discriminator loss (LaMa).
        hole_l1 / valid_l1: L1 inside the hole / on the known region of the raw prediction.
        stage_l1: multiplier of hole/valid L1 on earlier stages of multi-stage generators (DeepFill's coarse).
        feature_matching: L1 between the discriminator's features of composite and real (pix2pixHD, LaMa).
        perceptual / style: L1 on VGG activations / on their Gram matrices of composite vs real (Johnson et al.;
            Gatys et al.; weights as PConv: 0.05 and 120 with these normalisations).
        perceptual_net / perceptual_layers: ImageNet VGG from torchvision and which ReLU outputs.
        lpips_vgg / lpips_scales: LPIPS with the VGG16 backbone (:class:`LpipsVggLoss`) of composite vs real,
            over ``lpips_scales`` pyramid levels. Evaluation uses AlexNet LPIPS, a different network.
        tv: total variation on the hole grown by a pixel.
        r1_gamma / r1_interval: R1 gradient penalty on reals (images in [0, 1]); 0 disables it.
        augment: differentiable augmentation before every discriminator call (:class:`DiffAugment`).
    """

    def __init__(
        self,
        adversarial: AdversarialKind = "nsgan",
        adversarial_weight: float = 0.1,
        mask_aware: bool = True,
        hole_l1: float = 6.0,
        valid_l1: float = 1.0,
        stage_l1: float = 1.0,
        feature_matching: float = 0.0,
        perceptual: float = 0.0,
        style: float = 0.0,
        perceptual_net: VggName = "vgg16",
        perceptual_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
        lpips_vgg: float = 0.0,
        lpips_scales: int = 1,
        tv: float = 0.0,
        r1_gamma: float = 0.0,
        r1_interval: int = 16,
        augment: DiffAugment | None = None,
    ) -> None:
        super().__init__()
        if adversarial not in get_args(AdversarialKind):
            raise ValueError(f"unknown adversarial loss {adversarial!r}; choose nsgan, hinge or lsgan")
        if r1_interval < 1:
            raise ValueError(f"r1_interval must be >= 1, got {r1_interval}")
        self.adversarial, self.adversarial_weight, self.mask_aware = (
            adversarial,
            adversarial_weight,
            mask_aware,
        )
        self.hole_l1, self.valid_l1, self.stage_l1 = hole_l1, valid_l1, stage_l1
        self.feature_matching, self.perceptual, self.style, self.tv = feature_matching, perceptual, style, tv
        self.r1_gamma, self.r1_interval = r1_gamma, r1_interval
        self.augment = augment
        # Built now, so missing ImageNet weights stop the run at start-up rather than at the first step.
        self.vgg = VGGFeatures(perceptual_net, perceptual_layers) if perceptual or style else None
        self.lpips_vgg = lpips_vgg
        self.lpips_loss = LpipsVggLoss(lpips_scales) if lpips_vgg else None

    def _discriminate(
        self, discriminator: nn.Module, image: Tensor, mask: Tensor
    ) -> tuple[DiscriminatorOutput, Tensor]:
        if self.augment is not None:
            image, mask = self.augment(image, mask)
        return discriminator(image, mask), mask

    def discriminator_loss(
        self, discriminator: nn.Module, real: Tensor, fake: Tensor, mask: Tensor, step: int = 0
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D phase at generator step ``step`` (for lazy R1); ``fake`` must be detached by the caller."""
        real_out, _ = self._discriminate(discriminator, real, mask)
        fake_out, fake_mask = self._discriminate(discriminator, fake, mask)
        adv = d_loss(
            self.adversarial, real_out.logits, fake_out.logits, fake_mask if self.mask_aware else None
        )
        loss = adv
        logs = {
            "d/adversarial": adv.detach(),
            "d/real_logit": torch.stack([t.detach().float().mean() for t in real_out.logits]).mean(),
            "d/fake_logit": torch.stack([t.detach().float().mean() for t in fake_out.logits]).mean(),
        }
        if self.r1_gamma > 0 and step % self.r1_interval == 0:
            penalty = r1_penalty(lambda x: discriminator(x, mask).logits, real)
            loss = loss + self.r1_gamma / 2 * penalty * self.r1_interval
            logs["d/r1"] = penalty.detach()
        if self.augment is not None:
            self.augment.update(real_out.logits)
            logs["d/augment_p"] = self.augment.p.detach().clone()
        logs["d/loss"] = loss.detach()
        return loss, logs

    def generator_loss(
        self,
        discriminator: nn.Module,
        real: Tensor,
        stages: Tensor | list[Tensor],
        composite: Tensor,
        mask: Tensor,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """G phase: reconstruction of every stage's raw prediction plus realism terms on the ``composite``."""
        stages = stages if isinstance(stages, list) else [stages]
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

        if self.adversarial_weight or self.feature_matching:
            fake_out, _ = self._discriminate(discriminator, composite, mask)
            adv = g_loss(self.adversarial, fake_out.logits)
            loss = loss + self.adversarial_weight * adv
            logs["g/adversarial"] = adv.detach()
            if self.feature_matching:
                if self.augment is not None:  # features must compare the same view of both images
                    fake_out = discriminator(composite, mask)
                with torch.no_grad():
                    real_features = discriminator(real, mask).features
                fm = feature_matching(fake_out.features, real_features)
                loss = loss + self.feature_matching * fm
                logs["g/feature_matching"] = fm.detach()

        if self.vgg is not None:
            with torch.no_grad():
                real_features = self.vgg(real)
            perceptual, style = perceptual_and_style(self.vgg(composite), real_features)
            loss = loss + self.perceptual * perceptual + self.style * style
            logs["g/perceptual"], logs["g/style"] = perceptual.detach(), style.detach()
        if self.lpips_loss is not None:
            lp = self.lpips_loss(composite, real)
            loss = loss + self.lpips_vgg * lp
            logs["g/lpips_vgg"] = lp.detach()
        if self.tv:
            tv = hole_total_variation(composite, mask)
            loss = loss + self.tv * tv
            logs["g/tv"] = tv.detach()
        logs["g/loss"] = loss.detach()
        return loss, logs


__all__ = ["InpaintingLoss", "hole_total_variation", "masked_l1"]
