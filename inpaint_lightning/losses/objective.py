"""The two-phase GAN objective every task shares: a discriminator phase and a generator phase.

The LightningModule only calls :meth:`GANObjective.discriminator_loss` and :meth:`GANObjective.generator_loss`
and logs what they return, so every term is chosen and weighted in YAML without touching the training loop. A
weight of 0 switches a term off (and skips its computation). What differs by task is the reconstruction term
(:meth:`GANObjective.reconstruction`): L1 in and around the hole for inpainting
(:class:`~inpaint_lightning.losses.inpainting.InpaintingLoss`), a pixel loss over the whole image for restoration
(:class:`~inpaint_lightning.losses.restoration.RestorationLoss`), and the discriminator's labels for a fake
(:meth:`GANObjective.fake_labels`: inpainting's follow its hole mask).

Every phase takes the task's *condition* (:meth:`inpaint_lightning.tasks.Task.condition`: what the discriminator
sees beside the image, as StyleGAN2's ``D(img, c)``; inpainting's hole mask, None for restoration).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import Tensor, nn

from inpaint_lightning.losses.adversarial import (
    AdversarialKind,
    d_loss,
    feature_matching,
    g_loss,
    r1_penalty,
)
from inpaint_lightning.losses.augment import DiffAugment
from inpaint_lightning.losses.perceptual import LpipsVggLoss, perceptual_and_style
from inpaint_lightning.models.discriminators import DiscriminatorOutput
from inpaint_lightning.models.vgg import VGGFeatures, VggName


@dataclass(frozen=True)
class Phase:
    """One term of a batch's updates, as data (StyleGAN2-ADA's phase list): the network it updates, from which
    batch on and how often (``step % interval == 0``: lazy regularisation). Phases of one network due at the same
    batch are one update (their losses summed); networks update in the order their first phase is listed."""

    name: str
    network: Literal["generator", "discriminator"]
    start: int = 0
    interval: int = 1

    def due(self, step: int) -> bool:
        return step >= self.start and step % self.interval == 0


class Objective(nn.Module):
    """What :class:`~inpaint_lightning.module.GANModule` calls: the phases due at each batch (:meth:`phases`),
    and the loss of each network's update (:meth:`generator_loss`, :meth:`discriminator_loss`). The base has the
    generator's phase alone, as the damage detector's
    :class:`~inpaint_lightning.losses.segmentation.SegmentationLoss`."""

    def phases(self) -> tuple[Phase, ...]:
        """Every phase, in update order."""
        return (Phase("Gmain", "generator"),)

    def due(self, step: int) -> list[Phase]:
        """The phases due at batch ``step``."""
        return [phase for phase in self.phases() if phase.due(step)]

    def adversarial_at(self, step: int) -> bool:
        """Whether the generator's realism terms (adversarial, perceptual) count at batch ``step``."""
        return False

    def discriminator_loss(
        self,
        discriminator: nn.Module,
        real: Tensor,
        fake: Tensor,
        condition: Tensor | None = None,
        step: int = 0,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError(f"{type(self).__name__} has no discriminator phase")

    def generator_loss(
        self,
        discriminator: nn.Module | None,
        real: Tensor,
        stages: Tensor | list[Tensor],
        output: Tensor,
        condition: Tensor | None = None,
        step: int = 0,
        inputs: Tensor | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """The generator's total loss at batch ``step`` and its logged terms (``g/loss`` among them); ``inputs``
        is what the generator saw (for terms that compare with it, or run a teacher on it)."""
        raise NotImplementedError


class GANObjective(Objective):
    """Adversarial + perceptual terms and the discriminator phase; subclasses add the reconstruction terms.

    Generator: ``reconstruction + adversarial_weight * adv + feature_matching * FM + perceptual * VGG
    + style * Gram + lpips_vgg * LPIPS-VGG (+ the subclass's regularisers)``, the realism terms on the output
    that metrics see (inpainting: the composite). Discriminator: adversarial loss (a fake labelled per patch by
    :meth:`fake_labels`) ``+ r1_gamma / 2 * R1`` every ``r1_interval`` steps, scaled by the interval (lazy
    regularisation, StyleGAN2).

    Args:
        adversarial: ``nsgan`` (non-saturating), ``hinge`` or ``lsgan``.
        adversarial_weight: weight of the generator's adversarial term.
        feature_matching: L1 between the discriminator's features of output and real (pix2pixHD, LaMa).
        perceptual / style: L1 on VGG activations / on their Gram matrices of output vs real (Johnson et al.;
            Gatys et al.; weights as PConv: 0.05 and 120 with these normalisations).
        perceptual_net / perceptual_layers: ImageNet VGG from torchvision and which ReLU outputs.
        lpips_vgg / lpips_scales: LPIPS with the VGG16 backbone (:class:`LpipsVggLoss`) of output vs real,
            over ``lpips_scales`` pyramid levels. Evaluation uses AlexNet LPIPS, a different network.
        r1_gamma / r1_interval: R1 gradient penalty on reals (images in [0, 1]); 0 disables it.
        augment: differentiable augmentation before every discriminator call (:class:`DiffAugment`).
        pixel_warmup: generator steps trained on the task's pixel terms alone first (no D update, no adversarial,
            feature-matching or VGG/LPIPS term): Real-ESRNet's stage before Real-ESRGAN, so the GAN starts from a
            generator that already restores. Those steps skip the VGG and the discriminator, so they cost a
            fraction of a GAN step (about 1/8 for x4 SR on a CPU).
        discriminator_warmup: batches that train the discriminator alone first (the generator does not move):
            a fine-tune's fresh discriminator learns the source model's fakes before its gradients reach the
            generator, which they would otherwise push with random-critic noise. Not with ``pixel_warmup``.
    """

    def __init__(
        self,
        adversarial: AdversarialKind = "nsgan",
        adversarial_weight: float = 0.1,
        feature_matching: float = 0.0,
        perceptual: float = 0.0,
        style: float = 0.0,
        perceptual_net: VggName = "vgg16",
        perceptual_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
        lpips_vgg: float = 0.0,
        lpips_scales: int = 1,
        r1_gamma: float = 0.0,
        r1_interval: int = 16,
        augment: DiffAugment | None = None,
        pixel_warmup: int = 0,
        discriminator_warmup: int = 0,
    ) -> None:
        super().__init__()
        if pixel_warmup < 0 or discriminator_warmup < 0:
            raise ValueError(f"warm-ups must be >= 0, got {pixel_warmup} and {discriminator_warmup}")
        if pixel_warmup and discriminator_warmup:
            raise ValueError(
                "pixel_warmup (G alone first) and discriminator_warmup (D alone first) exclude each other"
            )
        self.pixel_warmup, self.discriminator_warmup = pixel_warmup, discriminator_warmup
        if adversarial not in get_args(AdversarialKind):
            raise ValueError(f"unknown adversarial loss {adversarial!r}; choose nsgan, hinge or lsgan")
        if r1_interval < 1:
            raise ValueError(f"r1_interval must be >= 1, got {r1_interval}")
        self.adversarial, self.adversarial_weight = adversarial, adversarial_weight
        self.feature_matching, self.perceptual, self.style = feature_matching, perceptual, style
        self.r1_gamma, self.r1_interval = r1_gamma, r1_interval
        self.augment = augment
        # Built now, so missing ImageNet weights stop the run at start-up rather than at the first step.
        self.vgg = VGGFeatures(perceptual_net, perceptual_layers) if perceptual or style else None
        self.lpips_vgg = lpips_vgg
        self.lpips_loss = LpipsVggLoss(lpips_scales) if lpips_vgg else None

    # ------------------------------------------------------------------------------------ what tasks add
    def reconstruction(
        self, real: Tensor, stages: list[Tensor], condition: Tensor | None, inputs: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """The task's pixel terms on the raw prediction(s) (every stage, the final one last); ``inputs`` is what
        the generator saw (a teacher sees it too, :class:`~inpaint_lightning.losses.DistillationLoss`)."""
        raise NotImplementedError

    def regularizers(
        self, output: Tensor, condition: Tensor | None
    ) -> tuple[Tensor | None, dict[str, Tensor]]:
        """Extra terms on the output after the realism terms (none by default)."""
        return None, {}

    def fake_labels(self, condition: Tensor | None) -> Tensor | None:
        """Per-pixel "real" labels for a fake in the discriminator loss (None: all fake), after augmentation."""
        return None

    # ------------------------------------------------------------------------------------------ phases
    def phases(self) -> tuple[Phase, ...]:
        """``Dmain`` and (with R1) ``Dreg`` every ``r1_interval`` batches, both after the pixel warm-up, then
        ``Gmain`` after the discriminator warm-up: one discriminator update (R1 folded in when due), then one
        generator update per batch."""
        d_main = Phase("Dmain", "discriminator", start=self.pixel_warmup)
        d_reg = Phase("Dreg", "discriminator", start=self.pixel_warmup, interval=self.r1_interval)
        g_main = Phase("Gmain", "generator", start=self.discriminator_warmup)
        return (d_main, *((d_reg,) if self.r1_gamma > 0 else ()), g_main)

    def adversarial_at(self, step: int) -> bool:
        """After the ``pixel_warmup`` steps."""
        return step >= self.pixel_warmup

    def _discriminate(
        self, discriminator: nn.Module, image: Tensor, condition: Tensor | None
    ) -> tuple[DiscriminatorOutput, Tensor | None]:
        if self.augment is not None:
            image, condition = self.augment(image, condition)
        return discriminator(image, condition), condition

    def discriminator_loss(
        self,
        discriminator: nn.Module,
        real: Tensor,
        fake: Tensor,
        condition: Tensor | None = None,
        step: int = 0,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D phase at generator step ``step`` (for lazy R1); ``fake`` must be detached by the caller."""
        real_out, _ = self._discriminate(discriminator, real, condition)
        fake_out, fake_condition = self._discriminate(discriminator, fake, condition)
        labels = self.fake_labels(fake_condition)
        adv = d_loss(self.adversarial, real_out.logits, fake_out.logits, labels)
        loss = adv
        logs = {
            "d/adversarial": adv.detach(),
            "d/real_logit": torch.stack([t.detach().float().mean() for t in real_out.logits]).mean(),
            "d/fake_logit": torch.stack([t.detach().float().mean() for t in fake_out.logits]).mean(),
        }
        if any(phase.name == "Dreg" for phase in self.due(step)):
            penalty = r1_penalty(lambda x: discriminator(x, condition).logits, real)
            loss = loss + self.r1_gamma / 2 * penalty * self.r1_interval
            logs["d/r1"] = penalty.detach()
        if self.augment is not None:
            self.augment.update(real_out.logits)
            logs["d/augment_p"] = self.augment.p.detach().clone()
        logs["d/loss"] = loss.detach()
        return loss, logs

    def generator_loss(
        self,
        discriminator: nn.Module | None,
        real: Tensor,
        stages: Tensor | list[Tensor],
        output: Tensor,
        condition: Tensor | None = None,
        step: int = 0,
        inputs: Tensor | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """G phase: the task's reconstruction of the raw prediction(s) plus realism terms on ``output``;
        ``discriminator`` None (there is none) leaves out its terms; the ``pixel_warmup`` leaves out every
        realism term."""
        stages = stages if isinstance(stages, list) else [stages]
        loss, logs = self.reconstruction(real, stages, condition, inputs)
        realism = self.adversarial_at(step)  # False during the pixel warm-up
        if realism and discriminator is not None and (self.adversarial_weight or self.feature_matching):
            fake_out, _ = self._discriminate(discriminator, output, condition)
            adv = g_loss(self.adversarial, fake_out.logits)
            loss = loss + self.adversarial_weight * adv
            logs["g/adversarial"] = adv.detach()
            if self.feature_matching:
                if self.augment is not None:  # features must compare the same view of both images
                    fake_out = discriminator(output, condition)
                with torch.no_grad():
                    real_features = discriminator(real, condition).features
                fm = feature_matching(fake_out.features, real_features)
                loss = loss + self.feature_matching * fm
                logs["g/feature_matching"] = fm.detach()

        if self.vgg is not None and realism:
            with torch.no_grad():
                real_features = self.vgg(real)
            perceptual, style = perceptual_and_style(self.vgg(output), real_features)
            loss = loss + self.perceptual * perceptual + self.style * style
            logs["g/perceptual"], logs["g/style"] = perceptual.detach(), style.detach()
        if self.lpips_loss is not None and realism:
            lp = self.lpips_loss(output, real)
            loss = loss + self.lpips_vgg * lp
            logs["g/lpips_vgg"] = lp.detach()
        extra, extra_logs = self.regularizers(output, condition)
        if extra is not None:
            loss = loss + extra
            logs.update(extra_logs)
        logs["g/loss"] = loss.detach()
        return loss, logs
