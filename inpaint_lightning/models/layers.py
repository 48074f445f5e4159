"""Building blocks shared by generators and discriminators."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm


class GatedConv2d(nn.Module):
    """Gated convolution (Yu et al., DeepFill v2): ``act(features) * sigmoid(gate)``.

    The learned soft gate lets the layer decide per pixel and channel how much of a hole-contaminated feature
    to pass on, which a plain convolution (or a hand-set partial-conv mask) cannot.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        activation: bool = True,
    ) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv2d(in_channels, 2 * out_channels, kernel_size, stride, padding, dilation)
        self.activation = nn.LeakyReLU(0.2) if activation else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        features, gate = self.conv(x).chunk(2, dim=1)
        return self.activation(features) * torch.sigmoid(gate)


def sn_conv(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0
) -> nn.Module:
    """Spectrally normalised convolution: bounds the discriminator's Lipschitz constant (Miyato et al. 2018)."""
    return spectral_norm(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding))


def pad_to_multiple(x: Tensor, multiple: int) -> tuple[Tensor, tuple[int, int]]:
    """Pad H and W up to a multiple (reflect where possible) so any image size goes through a U-Net.

    Returns the padded tensor and the original (H, W) to crop back to.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)
