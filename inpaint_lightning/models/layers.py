"""Building blocks shared by generators and discriminators."""

from __future__ import annotations

import math

import kornia
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


def padded_size(h: int, w: int, multiple: int, min_size: int = 1) -> tuple[int, int]:
    """The smallest (H, W) >= (h, w) and >= ``min_size`` that are multiples of ``multiple``."""
    multiple = max(1, int(multiple))

    def up(n: int) -> int:
        n = max(n, min_size)
        return -(-n // multiple) * multiple

    return up(h), up(w)


def pad_to(x: Tensor, h: int, w: int) -> Tensor:
    """Pad ``x`` (``B x C x h0 x w0``) at the bottom/right to ``h x w``: reflect where the pad is smaller than
    the image side, otherwise replicate (reflection cannot be wider than the image)."""
    ph, pw = h - x.shape[-2], w - x.shape[-1]
    if ph < 0 or pw < 0:
        raise ValueError(f"cannot pad {tuple(x.shape[-2:])} to smaller {(h, w)}")
    if ph == 0 and pw == 0:
        return x
    # Reflect one side at a time, each only when possible (F.pad needs pad < size per dimension).
    if pw:
        x = F.pad(x, (0, pw, 0, 0), mode="reflect" if pw < x.shape[-1] else "replicate")
    if ph:
        x = F.pad(x, (0, 0, 0, ph), mode="reflect" if ph < x.shape[-2] else "replicate")
    return x


def pad_to_multiple(x: Tensor, multiple: int, min_size: int = 1) -> tuple[Tensor, tuple[int, int]]:
    """Pad H and W (bottom/right, :func:`pad_to`) up to a multiple of ``multiple`` and at least ``min_size``, so
    any image size goes through a U-Net or an exported graph. Returns the padded tensor and the original (H, W)
    to crop back to. The one padding of the project: generators, the Inpainter and export use it."""
    h, w = x.shape[-2:]
    return pad_to(x, *padded_size(h, w, multiple, min_size)), (h, w)


def shrink_to(image: Tensor, side: int) -> Tensor:
    """``image`` resized (antialiased bilinear) so its longer side is ``side``; smaller images pass as they are.
    For the parts of a model or loss that judge the whole photo's look at a fixed cost whatever its size."""
    from inpaint_lightning.inference.sizing import shrink_size

    size = shrink_size(*image.shape[-2:], side)
    if size == tuple(image.shape[-2:]):
        return image
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)


#: Rec. 601 luma weights (as OpenCV's and JPEG's grey; ``data.edits.LUMA`` is the NumPy side's), for tensors
LUMA = (0.299, 0.587, 0.114)


def luma(images: Tensor) -> Tensor:
    """``B x 1 x H x W`` luma of RGB ``images`` (in float32, so it is safe under autocast)."""
    return (images.float() * images.new_tensor(LUMA, dtype=torch.float32).view(1, 3, 1, 1)).sum(
        1, keepdim=True
    )


def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """A Gaussian blur of ``sigma`` pixels (reflected borders; a fixed kernel, so ONNX exports it). The kernel
    reaches 3 sigma, or as far as reflection allows on a small image (a side less one pixel)."""
    size = 2 * min(math.ceil(3 * sigma), min(images.shape[-2:]) - 1) + 1
    return kornia.filters.gaussian_blur2d(images, (size, size), (sigma, sigma), border_type="reflect")
