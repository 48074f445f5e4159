"""Differentiable augmentation of everything the discriminator sees (DiffAugment, Zhao et al. 2020; ADA, Karras
et al. 2020), on the training device with kornia.

With a few thousand images a discriminator memorises the real set and its gradients stop helping the
generator. Augmenting real *and* fake images the same way (differentiably, so the generator still gets
gradients) prevents that without leaking augmentations into the generator's output.
"""

from __future__ import annotations

from typing import Literal

import kornia.augmentation as K
import torch
from torch import Tensor, nn

Policy = Literal["color", "translation", "cutout"]


class DiffAugment(nn.Module):
    """Random colour jitter, translation (image and mask together) and cutout, each applied with probability p.

    Args:
        policy: which augmentations, in order.
        p: probability of each augmentation per image (1.0 = DiffAugment).
        ada_target: if set, adapt ``p`` as ADA does: raise it while the discriminator's real-logit sign mean
            ``E[sign(D(real))]`` exceeds the target (it is overfitting), lower it otherwise. ADA uses 0.6.
        ada_speed: change of ``p`` per discriminator step.
    """

    def __init__(
        self,
        policy: tuple[Policy, ...] = ("color", "translation", "cutout"),
        p: float = 1.0,
        ada_target: float | None = None,
        ada_speed: float = 0.001,
    ) -> None:
        super().__init__()
        unknown = set(policy) - {"color", "translation", "cutout"}
        if unknown:
            raise ValueError(
                f"unknown DiffAugment policy {sorted(unknown)}; choose color, translation, cutout"
            )
        self.policy = tuple(policy)
        self.ada_target, self.ada_speed = ada_target, ada_speed
        self.register_buffer("p", torch.tensor(float(p)))  # saved in checkpoints: ADA resumes where it was
        self.color = K.ColorJiggle(brightness=0.3, contrast=0.4, saturation=0.5, p=p)
        self.translation = K.RandomAffine(degrees=0.0, translate=(0.125, 0.125), p=p)
        self.cutout = K.RandomErasing(scale=(0.04, 0.25), ratio=(0.5, 2.0), value=0.0, p=p)

    def forward(self, image: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """Augment a batch; geometric changes move the spatial condition (inpainting's mask; when there is one)
        with the image."""
        p = float(self.p)
        if p <= 0.0:
            return image, condition
        for name in self.policy:
            aug = getattr(self, name)
            aug.p = p
            if name == "translation" and condition is None:
                image = aug(image)
            elif name == "translation":
                both = aug(torch.cat([image, condition.to(image.dtype)], dim=1))
                image, condition = both[:, : image.shape[1]], both[:, image.shape[1] :]
            else:
                image = aug(image)
        return image, condition

    @torch.no_grad()
    def update(self, real_logits: list[Tensor]) -> None:
        """ADA's overfitting heuristic; a no-op without ``ada_target``."""
        if self.ada_target is None:
            return
        r_t = torch.stack([t.detach().float().sign().mean() for t in real_logits]).mean()
        step = self.ada_speed if r_t > self.ada_target else -self.ada_speed
        self.p.add_(step).clamp_(0.0, 1.0)
