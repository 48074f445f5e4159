"""An enhancement generator for global and local tone and colour edits at any resolution: a small network looks at
a low-resolution copy of the photo and predicts a coarse grid of colour transforms, which are applied to the
full-resolution pixels (the idea of HDRNet, Gharbi et al. 2017; written from the paper's description).

Why this shape: exposure, white balance, contrast, saturation and tone curves are per-pixel colour maps that vary
slowly over the image, so a ``grid x grid`` field of 3 x 4 affine colour transforms holds them. The network runs
at ``low_res`` whatever the photo's size (a 24 MP photo costs the same network time as a 256 px one), cannot
invent or blur detail (each output pixel is an affine map of its own input colour), and starts as the identity.
Like HDRNet's bilateral grid, the transforms also vary with the pixel's own luma (``luma_bins`` slices, blended
linearly), so dark and bright parts of one region get different curves: that is what a tone curve is.

Contract: ``forward(x)`` maps ``B x 3 x H x W`` in [0, 1] to the same size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.models.layers import gaussian_blur, luma


class ColourGrid(nn.Module):
    """A grid of luma-dependent affine colour transforms predicted from a low-resolution view (module docstring).

    Args:
        grid: the transforms' spatial grid (``grid x grid`` over the photo).
        luma_bins: transforms per grid cell, one per luma level, blended linearly.
        width: channels of the predicting network.
        low_res: side of the square view the network sees (``grid`` times a power of 2).
        detail: also predict a local-contrast gain per cell, applied to the luma detail above a Gaussian blur of
            ``detail_sigma`` x each side of the photo (a "clarity" slider that varies over the image; 0.05 is the
            local-contrast edit's and the look table's scale: a blur of 1/32 of the side, as first written,
            reached only the finest third of that band). A grid of colour maps
            holds local contrast worst of all the edits (a steep curve around each cell's own mid-tone), and
            local contrast is what an ImageNet embedding sees most of a photo's look: in AlexNet features, local
            contrast -0.5 moves KID to good photos by +0.79 and a colour cast by +0.002 (docs/benchmarks.md). Off
            by default; on in the unpaired config, beside the colour-texture discriminator that asks for it.
    """

    in_channels, scale, size_multiple, whole_image = 3, 1, 1, True

    def __init__(
        self,
        grid: int = 16,
        luma_bins: int = 8,
        width: int = 32,
        low_res: int = 256,
        detail: bool = False,
        detail_sigma: float = 0.05,
    ) -> None:
        super().__init__()
        ratio = low_res // grid
        if low_res % grid or ratio < 2 or ratio & (ratio - 1) or luma_bins < 2:
            raise ValueError(
                f"need low_res = grid x 2^k (k >= 1) and luma_bins >= 2, got {low_res}, {grid}, {luma_bins}"
            )
        if not 0 < detail_sigma < 1 / 3:
            raise ValueError(f"detail_sigma is a fraction of the side in (0, 1/3), got {detail_sigma}")
        self.grid, self.bins, self.low_res, self.detail = grid, luma_bins, low_res, detail
        self._blur_px = detail_sigma * low_res  # in the view's pixels
        layers: list[nn.Module] = []
        channels, side = 3, low_res
        while side > grid:  # stride-2 convolutions down to the grid
            layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels, side = width, side // 2
        self.local = nn.Sequential(*layers, nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2))
        self.globl = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(width, width, 1), nn.LeakyReLU(0.2))
        self.head = nn.Conv2d(width, 12 * luma_bins + int(detail), 1)
        nn.init.zeros_(self.head.weight)  # starts as the identity transform
        nn.init.zeros_(self.head.bias)

    def coefficients(self, x: Tensor) -> Tensor:
        """``B x bins x 12 x grid x grid``: each cell's 3 x 4 transforms (residual to the identity)."""
        return self._predict(x)[0]

    def _predict(self, x: Tensor) -> tuple[Tensor, Tensor | None, Tensor]:
        """The transforms, the detail gains (``B x 1 x grid x grid``, or None) and the low-resolution view."""
        # 4x the view bilinearly, then a 4 x 4 box average: an anti-aliased view that ONNX exports for any input
        # size (torch's antialias=True resize has no ONNX operator)
        fine = F.interpolate(
            x, size=(4 * self.low_res, 4 * self.low_res), mode="bilinear", align_corners=False
        )
        view = F.avg_pool2d(fine, 4)
        features = self.local(view * 2.0 - 1.0)
        features = features + self.globl(features)  # the stride-2 stack ends at grid x grid
        out = self.head(features)
        coeffs = out[:, : 12 * self.bins].reshape(x.shape[0], self.bins, 12, self.grid, self.grid)
        return coeffs, (out[:, 12 * self.bins :] if self.detail else None), view

    def forward(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        with torch.autocast(x.device.type, enabled=False):
            x = x.float()
            coeffs, gains, view = self._predict(x)
            grey = luma(x)
            level = grey.clamp(0, 1) * (self.bins - 1)
            transform = x.new_zeros(b, 12, h, w)
            for i in range(
                self.bins
            ):  # one luma slice at a time: inference holds a few 12-plane full-size maps
                weight = (1 - (level - i).abs()).clamp(min=0)  # linear "hat" blend over the slices
                full = F.interpolate(coeffs[:, i], size=(h, w), mode="bilinear", align_corners=False)
                transform = (
                    transform + full * weight
                )  # no data-dependent skip: a traced export keeps every slice
            transform = transform.view(b, 3, 4, h, w)
            y = x + (transform[:, :, :3] * x[:, None]).sum(2) + transform[:, :, 3]
            if gains is None:
                return y
            base = gaussian_blur(luma(view), self._blur_px)
            base = F.interpolate(base, size=(h, w), mode="bilinear", align_corners=False)
            gain = F.interpolate(gains, size=(h, w), mode="bilinear", align_corners=False)
            return y + gain * (grey - base)
