"""Adversarial objectives on discriminator logits. Each returns a scalar mean over all patches."""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor

AdversarialKind = Literal["nsgan", "hinge", "lsgan"]


def d_loss(kind: AdversarialKind, real: Tensor, fake: Tensor) -> Tensor:
    """Discriminator loss: real-term + fake-term.

    nsgan: ``BCE(real, 1) + BCE(fake, 0)`` = ``softplus(-real) + softplus(fake)`` (Goodfellow et al.).
    hinge: ``relu(1 - real) + relu(1 + fake)`` (Lim & Ye; SAGAN, DeepFill v2).
    lsgan: ``(real - 1)^2 + fake^2`` (Mao et al.).
    """
    if kind == "nsgan":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    if kind == "lsgan":
        return (real - 1.0).pow(2).mean() + fake.pow(2).mean()
    raise ValueError(f"unknown adversarial loss {kind!r}; choose nsgan, hinge or lsgan")


def g_loss(kind: AdversarialKind, fake: Tensor) -> Tensor:
    """Generator loss on the discriminator's logits for generated images.

    nsgan: ``BCE(fake, 1)`` = ``softplus(-fake)``; hinge: ``-fake``; lsgan: ``(fake - 1)^2``.
    """
    if kind == "nsgan":
        return F.softplus(-fake).mean()
    if kind == "hinge":
        return -fake.mean()
    if kind == "lsgan":
        return (fake - 1.0).pow(2).mean()
    raise ValueError(f"unknown adversarial loss {kind!r}; choose nsgan, hinge or lsgan")
