"""Adversarial objectives on discriminator logits, R1 and feature matching.

Logits come per scale (``list[Tensor]``, see :class:`~inpaint_lightning.models.DiscriminatorOutput`); losses
average each scale's map and sum over scales. ``fake_weight`` lets a fake's *known* region count as real
(LaMa's mask-aware discriminator): a patch that only sees real pixels should not be called fake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

AdversarialKind = Literal["nsgan", "hinge", "lsgan"]


def _real_term(kind: AdversarialKind, logits: Tensor) -> Tensor:
    """Per-patch D loss for a logit labelled real."""
    if kind == "nsgan":
        return F.softplus(-logits)
    if kind == "hinge":
        return F.relu(1.0 - logits)
    if kind == "lsgan":
        return (logits - 1.0).pow(2)
    raise ValueError(f"unknown adversarial loss {kind!r}; choose nsgan, hinge or lsgan")


def _fake_term(kind: AdversarialKind, logits: Tensor) -> Tensor:
    """Per-patch D loss for a logit labelled fake."""
    if kind == "nsgan":
        return F.softplus(logits)
    if kind == "hinge":
        return F.relu(1.0 + logits)
    if kind == "lsgan":
        return logits.pow(2)
    raise ValueError(f"unknown adversarial loss {kind!r}; choose nsgan, hinge or lsgan")


def logit_mask(mask: Tensor, logits: Tensor) -> Tensor:
    """The hole mask at the logits' resolution: a patch is 'hole' if any pixel of its cell is."""
    return F.adaptive_max_pool2d(mask.to(logits.dtype), logits.shape[-2:])


def d_loss(
    kind: AdversarialKind, real: list[Tensor], fake: list[Tensor], mask: Tensor | None = None
) -> Tensor:
    """Discriminator loss: real patches real; fake patches fake, or with ``mask`` only the hole's patches fake.

    nsgan: ``softplus(-real) + softplus(fake)`` (BCE with logits, Goodfellow et al.); hinge:
    ``relu(1 - real) + relu(1 + fake)`` (SAGAN, DeepFill v2); lsgan: ``(real - 1)^2 + fake^2`` (Mao et al.).
    """
    total = real[0].new_zeros(())
    for r, f in zip(real, fake, strict=True):
        fake_loss = _fake_term(kind, f)
        if mask is not None:
            m = logit_mask(mask, f)
            fake_loss = fake_loss * m + _real_term(kind, f) * (1.0 - m)
        total = total + _real_term(kind, r).mean() + fake_loss.mean()
    return total


def g_loss(kind: AdversarialKind, fake: list[Tensor]) -> Tensor:
    """Generator loss: nsgan ``softplus(-fake)``; hinge ``-fake``; lsgan ``(fake - 1)^2``; summed over scales."""
    total = fake[0].new_zeros(())
    for f in fake:
        if kind == "nsgan":
            total = total + F.softplus(-f).mean()
        elif kind == "hinge":
            total = total - f.mean()
        elif kind == "lsgan":
            total = total + (f - 1.0).pow(2).mean()
        else:
            raise ValueError(f"unknown adversarial loss {kind!r}; choose nsgan, hinge or lsgan")
    return total


def r1_penalty(logits_fn: Callable[[Tensor], list[Tensor]], real: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): ``E[ ||d sum(D(x)) / dx||^2 ]`` on real images, per-sample sum over pixels.

    Computed in fp32 with autocast off: squared input gradients under- and overflow in half precision.
    ``logits_fn`` maps images to logits (per scale); the graph is kept so the penalty trains D.
    """
    with torch.autocast(device_type=real.device.type, enabled=False):
        x = real.detach().float().requires_grad_(True)
        out = sum(t.float().sum() for t in logits_fn(x))
        (grad,) = torch.autograd.grad(out, x, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def feature_matching(fake: list[Tensor], real: list[Tensor]) -> Tensor:
    """Mean over layers of ``L1(fake_feature, real_feature)`` (pix2pixHD); real features are treated as constants."""
    total = fake[0].new_zeros(())
    for f, r in zip(fake, real, strict=True):
        total = total + (f - r.detach()).abs().mean()
    return total / len(fake)
