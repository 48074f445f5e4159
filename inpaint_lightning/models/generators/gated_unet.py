"""Gated-convolution U-Net: the CPU-friendly default generator."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from inpaint_lightning.models.generators.base import InpaintGenerator, Prefill
from inpaint_lightning.models.layers import GatedConv2d


class GatedUNet(InpaintGenerator):
    """U-Net of gated convolutions with a dilated bottleneck (gated conv from DeepFill v2, Yu et al. 2019).

    Gated convolutions handle free-form holes; skip connections keep the known region's detail; dilated
    convolutions in the bottleneck give the receptive field to borrow texture from far away. Cheap enough for
    CPU experiments; for large holes at high resolution prefer :class:`FFCResNet` (LaMa).

    Args:
        in_channels: masked RGB + mask.
        out_channels: RGB.
        base_channels: width of the first level; doubles per downsampling up to ``max_channels``.
        depth: number of stride-2 downsamplings (inputs are padded to a multiple of ``2**depth``).
        dilations: dilation of each residual gated conv in the bottleneck.
        max_channels: channel cap.
        prefill / residual: see :class:`InpaintGenerator`.
    """

    def __init__(
        self,
        in_channels: int = 4,
        out_channels: int = 3,
        base_channels: int = 32,
        depth: int = 3,
        dilations: tuple[int, ...] = (2, 4, 8, 1),
        max_channels: int = 256,
        prefill: Prefill = "none",
        residual: bool = False,
    ) -> None:
        super().__init__(prefill, residual)
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.size_multiple = 2**depth
        widths = [min(base_channels * 2**i, max_channels) for i in range(depth + 1)]
        self.stem = GatedConv2d(in_channels, widths[0], kernel_size=5)
        self.down = nn.ModuleList(
            nn.Sequential(
                GatedConv2d(widths[i], widths[i + 1], stride=2), GatedConv2d(widths[i + 1], widths[i + 1])
            )
            for i in range(depth)
        )
        self.bottleneck = nn.ModuleList(GatedConv2d(widths[-1], widths[-1], dilation=d) for d in dilations)
        self.up = nn.ModuleList(
            nn.Sequential(
                GatedConv2d(widths[i + 1] + widths[i], widths[i]), GatedConv2d(widths[i], widths[i])
            )
            for i in reversed(range(depth))
        )
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.head = nn.Conv2d(widths[0], out_channels, kernel_size=3, padding=1)

    def body(self, x: Tensor) -> Tensor:
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(skips[-1]))
        y = skips.pop()
        for block in self.bottleneck:
            y = y + block(y)
        for block in self.up:
            y = block(torch.cat([self.upsample(y), skips.pop()], dim=1))
        return self.head(y)
