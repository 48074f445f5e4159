"""LaMa's generator: a ResNet of fast Fourier convolutions."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from inpaint_lightning.models.ffc import FFC, FFCResBlock
from inpaint_lightning.models.generators.base import Head, InpaintGenerator, Prefill


class FFCResNet(InpaintGenerator):
    """FFC ResNet from LaMa (Suvorov et al. 2021, "Resolution-robust Large Mask Inpainting with Fourier
    Convolutions").

    7x7 stem, ``n_downsampling`` stride-2 convolutions (the last one opens the global branch), ``n_blocks``
    residual FFC blocks with ``global_ratio`` of the channels in the spectral branch, a decoder of ``n_downsampling``
    2x upsamplings.
    Best on large holes and high resolutions: the Fourier branch sees the whole image in every block, so it
    continues periodic structure and transfers from 256 px training to 1-2k px inference. The defaults are
    LaMa's "lama-fourier" (9 blocks, ~27M parameters); ``base_channels: 32, n_blocks: 6`` is a ~5M CPU model.

    Args:
        in_channels / out_channels: masked RGB + mask -> RGB.
        base_channels: width after the stem (LaMa's ngf); doubles per downsampling.
        n_downsampling: stride-2 stages (inputs are padded to a multiple of ``2**n_downsampling``).
        n_blocks: residual FFC blocks at the bottleneck.
        global_ratio: share of bottleneck channels in the global (Fourier) branch (LaMa: 0.75).
        max_channels: channel cap.
        upsample: ``transposed`` (LaMa's stride-2 3x3 transposed convolutions) or ``resize`` (nearest-neighbour 2x
            then a 3x3 convolution). A stride-2 3x3 transposed convolution covers even output pixels with one more
            kernel tap than odd ones, so until long training evens that out its output carries a checkerboard,
            and three of them stacked a regular dot grid (Odena et al. 2016, "Deconvolution and Checkerboard
            Artifacts"); resize-convolution has none from the first step. ``transposed`` stays the default so
            checkpoints saved before this option load as they were trained.
        prefill / residual / head: see :class:`InpaintGenerator` (LaMa's published weights: ``head: sigmoid``,
            converted by ``python -m inpaint_lightning convert``).
    """

    def __init__(
        self,
        in_channels: int = 4,
        out_channels: int = 3,
        base_channels: int = 64,
        n_downsampling: int = 3,
        n_blocks: int = 9,
        global_ratio: float = 0.75,
        max_channels: int = 1024,
        prefill: Prefill = "none",
        residual: bool = False,
        upsample: Literal["transposed", "resize"] = "transposed",
        head: Head = "linear",
    ) -> None:
        super().__init__(prefill, residual, head)
        if not 0.0 <= global_ratio < 1.0:
            raise ValueError(f"global_ratio must be in [0, 1), got {global_ratio}")
        if upsample not in ("transposed", "resize"):
            raise ValueError(f"upsample must be 'transposed' or 'resize', got {upsample!r}")
        self.size_multiple = 2**n_downsampling
        widths = [min(base_channels * 2**i, max_channels) for i in range(n_downsampling + 1)]
        layers: list[nn.Module] = [FFC(in_channels, widths[0], 7, 0.0, 0.0, padding=3)]
        for i in range(n_downsampling):
            ratio_out = global_ratio if i == n_downsampling - 1 else 0.0
            layers.append(FFC(widths[i], widths[i + 1], 3, 0.0, ratio_out, stride=2, padding=1))
        layers += [FFCResBlock(widths[-1], global_ratio) for _ in range(n_blocks)]
        for i in reversed(range(n_downsampling)):
            layers += [
                *_upsampling(widths[i + 1], widths[i], upsample),
                nn.BatchNorm2d(widths[i]),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(widths[0], out_channels, 7, padding=3, padding_mode="reflect"))
        self.net = nn.Sequential(*layers)

    def body(self, x: Tensor) -> Tensor:
        return self.net(x)


def _upsampling(in_channels: int, out_channels: int, kind: str) -> list[nn.Module]:
    """A 2x upsampling to ``out_channels``; see ``FFCResNet``'s ``upsample``."""
    if kind == "transposed":
        return [nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_channels, out_channels, 3, padding=1)]
