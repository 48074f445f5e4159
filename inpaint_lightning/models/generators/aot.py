"""AOT-GAN generator: aggregated contextual transformations with gated residual connections."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.models.generators.base import InpaintGenerator, Prefill


def _pad(x: Tensor, pad: int) -> Tensor:
    """Reflection padding, or replicate where the map is too small to reflect (small inputs, large rates)."""
    mode = "reflect" if pad < min(x.shape[-2:]) else "replicate"
    return F.pad(x, (pad, pad, pad, pad), mode=mode)


class AOTBlock(nn.Module):
    """AOT block (Zeng et al. 2022, "Aggregated Contextual Transformations for High-Resolution Image
    Inpainting"): split, transform at several dilation rates, aggregate, and gate the residual.

    One reflection-padded dilated 3x3 conv per rate (``channels // len(rates)`` output channels each, ReLU)
    sees context at its own distance; the branches are concatenated and fused by a 3x3 conv. Instead of a plain
    residual sum, a spatially varying gate ``g = sigmoid(LayerNorm(conv3x3(x)))`` mixes the block input and the
    fused features as ``x * (1 - g) + fused * g``: inside the hole the block can replace its input, in the
    known region keep it. The layer norm (over C, H, W, learned per-channel affine) keeps the gate's logits in
    a range where the sigmoid still has gradient.

    Args:
        channels: input and output channels.
        rates: dilation of each branch.
    """

    def __init__(self, channels: int, rates: tuple[int, ...] = (1, 2, 4, 8)) -> None:
        super().__init__()
        if not rates or channels < len(rates):
            raise ValueError(f"need 1 <= len(rates) <= channels, got rates={rates} for {channels} channels")
        branch = channels // len(rates)
        self.rates = tuple(rates)
        self.branches = nn.ModuleList(nn.Conv2d(channels, branch, 3, dilation=r) for r in self.rates)
        self.fuse = nn.Conv2d(branch * len(rates), channels, 3)
        self.gate = nn.Conv2d(channels, channels, 3)
        self.gate_norm = nn.GroupNorm(1, channels)

    def forward(self, x: Tensor) -> Tensor:
        out = torch.cat(
            [F.relu(conv(_pad(x, r))) for conv, r in zip(self.branches, self.rates, strict=True)], 1
        )
        fused = self.fuse(_pad(out, 1))
        gate = torch.sigmoid(self.gate_norm(self.gate(_pad(x, 1))))
        return x * (1.0 - gate) + fused * gate


class AOTGenerator(InpaintGenerator):
    """AOT-GAN generator (Zeng et al. 2022, "Aggregated Contextual Transformations for High-Resolution Image
    Inpainting").

    A plain encoder (7x7 conv, two stride-2 4x4 convs) to 1/4 resolution, a stack of :class:`AOTBlock` s that
    aggregate context at several dilation rates with gated residuals, and a decoder of two bilinear x2
    upsamplings + 3x3 convs with a linear RGB output. Good for large holes at high resolution (it was designed
    for 512 px): the multi-rate blocks give a large receptive field without attention's quadratic cost, and
    it is a single stage, cheaper than :class:`DeepFillV2` per parameter.

    Args:
        in_channels: masked RGB + mask.
        out_channels: RGB.
        base_channels: width after the first conv (64); the downsamplings double it twice.
        n_blocks: number of AOT blocks at 1/4 resolution.
        rates: dilation rates of each block's branches (``4 * base_channels`` must be at least ``len(rates)``).
        prefill / residual: see :class:`InpaintGenerator`.
    """

    def __init__(
        self,
        in_channels: int = 4,
        out_channels: int = 3,
        base_channels: int = 64,
        n_blocks: int = 8,
        rates: tuple[int, ...] = (1, 2, 4, 8),
        prefill: Prefill = "none",
        residual: bool = False,
    ) -> None:
        super().__init__(prefill, residual)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.size_multiple = 4
        c = base_channels
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, c, 7),
            nn.ReLU(),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * c, 4 * c, 4, stride=2, padding=1),
            nn.ReLU(),
        )
        self.blocks = nn.Sequential(*(AOTBlock(4 * c, tuple(rates)) for _ in range(n_blocks)))
        self.up1 = nn.Conv2d(4 * c, 2 * c, 3, padding=1)
        self.up2 = nn.Conv2d(2 * c, c, 3, padding=1)
        self.head = nn.Conv2d(c, out_channels, 3, padding=1)
        self._init_weights()

    @torch.no_grad()
    def _init_weights(self) -> None:
        """He init (fan-in, ReLU) for every hidden conv, zero biases; the head keeps PyTorch's default.

        PyTorch's default init shrinks the variance about 6x per ReLU conv: through the encoder, blocks and
        decoder the output at init barely depended on the input (measured: changes of 3e-5 for a new image).
        """
        for module in self.modules():
            if isinstance(module, nn.Conv2d) and module is not self.head:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def body(self, x: Tensor) -> Tensor:
        y = self.blocks(self.encoder(x))
        for conv in (self.up1, self.up2):
            y = F.relu(conv(F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)))
        return self.head(y)
