"""Partial convolutions and the PConv U-Net."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.models.generators.base import InpaintGenerator, Prefill


class PartialConv2d(nn.Module):
    """Partial convolution (Liu et al. 2018, "Image Inpainting for Irregular Holes Using Partial Convolutions").

    Convolves only the known pixels and rescales by ``window size / known pixels in the window``, so a window
    half in the hole gives the same magnitude as a fully known one; the bias is added after the rescaling. A
    window without any known pixel outputs 0 and stays hole; every other output position becomes known, so
    the hole shrinks layer by layer. Zero padding counts as unknown, which re-weights border windows (the
    "partial convolution based padding" of Liu et al. 2018b) instead of darkening them.

    ``forward(x, hole)`` takes and returns hole masks (1 = hole, as everywhere in this project); internally
    ``known = 1 - hole``. The mask has 1 channel (shared by all input channels) or one per input channel
    (e.g. after concatenating feature maps with different holes).

    Args:
        in_channels / out_channels / kernel_size / stride / dilation / bias: as for :class:`torch.nn.Conv2d`.
        padding: defaults to "same" for stride 1 (``dilation * (kernel_size - 1) // 2``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2 if padding is None else padding
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, bias=bias)

    def forward(self, x: Tensor, hole: Tensor) -> tuple[Tensor, Tensor]:
        conv = self.conv
        known = 1.0 - hole.to(x.dtype)
        with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
            # Known-pixel count per window, in float32: counts of wide concatenated masks exceed fp16's integers.
            ones = torch.ones(1, known.shape[1], *conv.kernel_size, device=x.device)
            count = F.conv2d(known.float(), ones, None, conv.stride, conv.padding, conv.dilation)
            new_known = (count > 0).float()
            ratio = ones.numel() / count.clamp_min(1.0) * new_known
        out = F.conv2d(x * known, conv.weight, None, conv.stride, conv.padding, conv.dilation)
        out = out * ratio.to(out.dtype)
        if conv.bias is not None:
            out = out + conv.bias.view(1, -1, 1, 1) * new_known.to(out.dtype)
        return out, 1.0 - new_known.to(x.dtype)


class PConvUNet(InpaintGenerator):
    """U-Net of partial convolutions (Liu et al. 2018, "Image Inpainting for Irregular Holes Using Partial
    Convolutions").

    Every layer convolves only known pixels (:class:`PartialConv2d`) and passes on an updated mask, so the
    hole's placeholder values never leak into the features and the result does not depend on what the data
    wrote into the hole. Good for irregular, scattered holes (scratches, text, small objects) and as a classic
    baseline; it has no attention or large receptive field tricks, so large holes come out blurrier than with
    :class:`DeepFillV2` or :class:`AOTGenerator`.

    Encoder: ``depth`` stride-2 partial convs (kernels 7, 5, 5, then 3), BatchNorm (not on the first) and ReLU.
    Decoder: nearest upsampling of features and mask, concatenation with the encoder's skip (features and
    masks; the last one is the input image), partial conv 3x3, BatchNorm and LeakyReLU(0.2); the last layer is
    a linear partial conv to RGB.

    Args:
        in_channels: masked RGB + mask (the mask is used as the partial convs' mask, not as a feature).
        out_channels: RGB.
        base_channels: width of the first layer; doubles per level up to ``max_channels``.
        depth: number of stride-2 levels (inputs are padded to a multiple of ``2**depth``).
        max_channels: channel cap.
        prefill / residual: see :class:`InpaintGenerator`.
    """

    def __init__(
        self,
        in_channels: int = 4,
        out_channels: int = 3,
        base_channels: int = 64,
        depth: int = 7,
        max_channels: int = 512,
        prefill: Prefill = "none",
        residual: bool = False,
    ) -> None:
        super().__init__(prefill, residual)
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.size_multiple = 2**depth
        image_channels = in_channels - 1
        widths = [image_channels] + [min(base_channels * 2**i, max_channels) for i in range(depth)]
        kernels = [7, 5, 5] + [3] * max(depth - 3, 0)
        self.encoder = nn.ModuleList(
            PartialConv2d(widths[i], widths[i + 1], kernels[i], stride=2) for i in range(depth)
        )
        self.encoder_norms = nn.ModuleList(
            nn.Identity() if i == 0 else nn.BatchNorm2d(widths[i + 1]) for i in range(depth)
        )
        # Decoder level i maps upsampled level i+1 ++ skip level i to level i's width (RGB at level 0).
        outs = [out_channels] + widths[1:-1]
        self.decoder = nn.ModuleList(
            PartialConv2d(widths[i + 1] + widths[i], outs[i], 3) for i in reversed(range(depth))
        )
        self.decoder_norms = nn.ModuleList(
            nn.BatchNorm2d(outs[i]) if i > 0 else nn.Identity() for i in reversed(range(depth))
        )

    def body(self, x: Tensor) -> Tensor:
        y, hole = x[:, :-1], x[:, -1:]
        skips = [(y, hole)]
        for i, (conv, norm) in enumerate(zip(self.encoder, self.encoder_norms, strict=True)):
            y, hole = conv(y, hole)
            y = F.relu(norm(y))
            if i < len(self.encoder) - 1:
                skips.append((y, hole))
        for i, (conv, norm) in enumerate(zip(self.decoder, self.decoder_norms, strict=True)):
            skip, skip_hole = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="nearest")
            hole = F.interpolate(hole, size=skip.shape[-2:], mode="nearest")
            # The concatenated input has two holes: give each channel its own mask.
            hole = torch.cat(
                [hole.expand(-1, y.shape[1], -1, -1), skip_hole.expand(-1, skip.shape[1], -1, -1)], dim=1
            )
            y, hole = conv(torch.cat([y, skip], dim=1), hole)
            if i < len(self.decoder) - 1:
                y = F.leaky_relu(norm(y), 0.2)
        return y
