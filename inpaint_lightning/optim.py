"""Optimizer defaults for GANs, as classes so LightningCLI prints and overrides every argument."""

from __future__ import annotations

from collections.abc import Iterable

import torch


class GANAdam(torch.optim.Adam):
    """Adam with the GAN defaults of DCGAN/pix2pix (lr 2e-4, beta1 0.5): a low beta1 damps the momentum
    that makes two players chase each other. Any ``torch.optim`` class can replace it in YAML."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, weight_decay=weight_decay)
