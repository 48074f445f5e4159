"""Discriminators: ``forward(image, mask)`` returns a map of real/fake logits, one per receptive-field patch."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from inpaint_lightning.models.layers import sn_conv


class PatchDiscriminator(nn.Module):
    """Spectral-norm PatchGAN (pix2pix layout; SN as in DeepFill v2's SN-PatchGAN).

    Judges overlapping patches rather than the whole image, which is what matters for a local fill, and sees
    the mask as a fourth channel so it knows where to look. Spectral norm keeps it from overpowering the
    generator without gradient penalties.

    Args:
        in_channels: RGB + mask.
        base_channels: width of the first layer (doubles per layer up to 8x).
        n_layers: stride-2 layers; 3 gives a 70 x 70 receptive field.
    """

    def __init__(self, in_channels: int = 4, base_channels: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [sn_conv(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2)]
        width = base_channels
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1
            nxt = base_channels * min(2**i, 8)
            layers += [sn_conv(width, nxt, 4, stride, 1), nn.LeakyReLU(0.2)]
            width = nxt
        layers.append(sn_conv(width, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        self.in_channels = in_channels

    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        x = image * 2.0 - 1.0
        if self.in_channels == image.shape[1] + 1:
            x = torch.cat([x, mask], dim=1)
        return self.net(x)
