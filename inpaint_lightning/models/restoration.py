"""Restoration generators: a NAFNet-style U-Net (Chen et al. 2022, "Simple Baselines for Image Restoration"), the
default, and an RRDB-lite (ESRGAN's residual-in-residual dense blocks, few and narrow) for comparison.

Why this one: NAFNet's blocks are only 1x1 and depthwise 3x3 convolutions, a channel LayerNorm, a "simple gate"
(split channels, multiply) and a squeeze-style channel attention: no softmax attention and no nonlinearity
besides the gate, so it is fast per FLOP on CPUs as well as GPUs and exports to ONNX without special cases, and it
was the strongest per FLOP on denoising (SIDD) and deblurring (GoPro). For super-resolution the network runs at the
input's resolution (the SR configs make it flat: no U-Net levels, as ESRGAN/EDSR-style models are) and a
pixel-shuffle tail predicts the ``scale`` x larger image, added to a bicubic up-scaling of the input (the network
learns the residual, and starts at the SR baseline).

Contract: ``forward(x)`` maps ``B x 3 x h x w`` in [0, 1] (any size: padded to ``size_multiple`` inside) to
``B x 3 x (scale h) x (scale w)``, trained towards [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.models.layers import pad_to_multiple


class LayerNorm2d(nn.Module):
    """LayerNorm over channels at every pixel (NCHW), computed in fp32."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(channels)), nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        y = x.float()
        mu = y.mean(1, keepdim=True)
        var = (y - mu).pow(2).mean(1, keepdim=True)
        y = (y - mu) / torch.sqrt(var + self.eps)
        return (y * self.weight[:, None, None] + self.bias[:, None, None]).to(x.dtype)


class SimpleGate(nn.Module):
    """Split the channels in two halves and multiply them: NAFNet's replacement for activations."""

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class NAFBlock(nn.Module):
    """LN -> 1x1 (x2) -> depthwise 3x3 -> gate -> channel attention -> 1x1, then LN -> 1x1 (x2) -> gate -> 1x1,
    each branch added back with a learned per-channel scale that starts at 0 (the block starts as identity)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        c2 = channels * 2
        self.norm1, self.norm2 = LayerNorm2d(channels), LayerNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, c2, 1)
        self.dw = nn.Conv2d(c2, c2, 3, padding=1, groups=c2)
        self.gate = SimpleGate()
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels, 1))
        self.conv2 = nn.Conv2d(channels, channels, 1)
        self.ffn1, self.ffn2 = nn.Conv2d(channels, c2, 1), nn.Conv2d(channels, channels, 1)
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.gate(self.dw(self.conv1(self.norm1(x))))
        y = self.conv2(y * self.attention(y))
        x = x + self.beta * y
        y = self.ffn2(self.gate(self.ffn1(self.norm2(x))))
        return x + self.gamma * y


def upscaled(x: Tensor, scale: int) -> Tensor:
    """``x`` up-scaled bicubically by ``scale`` (itself at 1): the base the restoration generators add their
    correction to. Bicubic, not bilinear: the SR baseline to beat is where the correction starts."""
    if scale == 1:
        return x
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


class NAFNet(nn.Module):
    """NAFNet-style U-Net restorer, with a pixel-shuffle tail for ``scale`` > 1.

    Args:
        width: channels at full resolution (doubled at each level).
        enc_blocks / dec_blocks: NAF blocks per encoder / decoder level (the number of levels is their length).
            Both empty: a flat stack of ``middle_blocks`` at the input's resolution, what the SR configs use (an
            x4 input is already small; halving it again loses the detail SR must rebuild: +0.2 dB PSNR-Y on
            Set14 x4 after 5 CPU minutes, docs/restoration.md).
        middle_blocks: NAF blocks at the coarsest level (the only level when flat).
        scale: output size / input size (1 for denoise, deblur, JPEG, low light; 2 or 4 for super-resolution).
        out_channels: 3 for an image; 1 for a per-pixel logit map (the damage detector).
        residual: predict a correction of the input (bicubic-upscaled for ``scale`` > 1), so an untrained network
            starts at the classical baseline; needs ``out_channels`` 3. Off: the output is the network's alone.
    """

    def __init__(
        self,
        width: int = 32,
        enc_blocks: tuple[int, ...] = (1, 1, 2),
        middle_blocks: int = 2,
        dec_blocks: tuple[int, ...] = (1, 1, 1),
        scale: int = 1,
        out_channels: int = 3,
        residual: bool = True,
    ) -> None:
        super().__init__()
        if residual and out_channels != 3:
            raise ValueError(
                f"residual needs out_channels 3 (a correction of the RGB input), got {out_channels}"
            )
        self.out_channels, self.residual = out_channels, residual
        if len(enc_blocks) != len(dec_blocks):
            raise ValueError(
                f"enc_blocks and dec_blocks need the same length, got {enc_blocks} and {dec_blocks}"
            )
        if scale not in (1, 2, 3, 4, 8):
            raise ValueError(f"scale must be 1, 2, 3, 4 or 8, got {scale}")
        self.scale, self.in_channels = scale, 3
        self.size_multiple = 2 ** len(enc_blocks)
        self.intro = nn.Conv2d(3, width, 3, padding=1)
        self.encoders, self.downs, self.ups, self.decoders = (nn.ModuleList() for _ in range(4))
        c = width
        for n in enc_blocks:
            self.encoders.append(nn.Sequential(*(NAFBlock(c) for _ in range(n))))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle = nn.Sequential(*(NAFBlock(c) for _ in range(middle_blocks)))
        for n in dec_blocks:
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(nn.Sequential(*(NAFBlock(c) for _ in range(n))))
        self.ending = nn.Sequential(
            nn.Conv2d(width, out_channels * scale * scale, 3, padding=1), nn.PixelShuffle(scale)
        )

    def forward(self, x: Tensor) -> Tensor:
        padded, (h, w) = pad_to_multiple(x * 2.0 - 1.0, self.size_multiple)
        y = self.intro(padded)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            y = encoder(y)
            skips.append(y)
            y = down(y)
        y = self.middle(y)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips), strict=True):
            y = decoder(up(y) + skip)
        y = self.ending(y)[..., : h * self.scale, : w * self.scale]
        if not self.residual:
            return y
        return upscaled(x, self.scale) + 0.5 * y


class DenseBlock(nn.Module):
    """ESRGAN's residual dense block: 5 convolutions, each seeing every earlier output (``growth`` new channels
    each), LeakyReLU, the result scaled by 0.2 and added back."""

    def __init__(self, channels: int, growth: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(channels + i * growth, growth if i < 4 else channels, 3, padding=1) for i in range(5)
        )
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for i, conv in enumerate(self.convs):
            y = conv(torch.cat(features, dim=1))
            if i < 4:
                features.append(self.act(y))
        return x + 0.2 * y


class RRDB(nn.Module):
    """Residual-in-residual: three dense blocks, scaled by 0.2 and added back."""

    def __init__(self, channels: int, growth: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*(DenseBlock(channels, growth) for _ in range(3)))

    def forward(self, x: Tensor) -> Tensor:
        return x + 0.2 * self.blocks(x)


class RRDBNet(nn.Module):
    """RRDB-lite: ESRGAN's generator with few, narrow blocks, all at the input's resolution, then a pixel-shuffle
    tail (``scale`` > 1) and the same residual over a bicubic up-scaling as :class:`NAFNet` (same contract).

    Args:
        width: feature channels. growth: channels each dense-block convolution adds. blocks: RRDB count.
        scale: output size / input size.
    """

    def __init__(self, width: int = 32, growth: int = 16, blocks: int = 3, scale: int = 4) -> None:
        super().__init__()
        if scale not in (1, 2, 3, 4, 8):
            raise ValueError(f"scale must be 1, 2, 3, 4 or 8, got {scale}")
        self.scale, self.in_channels, self.size_multiple = scale, 3, 1
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(*(RRDB(width, growth) for _ in range(blocks)))
        self.body_end = nn.Conv2d(width, width, 3, padding=1)
        self.tail = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        y = self.head(x * 2.0 - 1.0)
        y = self.tail(y + self.body_end(self.body(y)))
        return upscaled(x, self.scale) + 0.5 * y
