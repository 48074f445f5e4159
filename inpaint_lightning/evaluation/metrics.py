"""Per-image inpainting metrics, defined once so ``test``, ``evaluate`` and papers can be compared.

All take float tensors in [0, 1], ``B x 3 x H x W`` (masks ``B x 1 x H x W``, 1 = hole), and return one value per
image (``B``). Dataset figures are the **mean of per-image values** (not PSNR of the pooled MSE), which is what
most papers report and what makes a per-bucket breakdown add up.

- PSNR: ``10 log10(1 / MSE)`` over all pixels and channels, data range 1. A zero-error image would be ``inf`` and
  poison the mean, so MSE is floored at ``1e-10`` (PSNR at most 100 dB).
- SSIM: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range 1, on RGB (mean over channels), over
  the windows inside the image: equal to ``skimage.metrics.structural_similarity(gaussian_weights=True,
  use_sample_covariance=False, data_range=1, channel_axis=-1)``.
- LPIPS: AlexNet by default (VGG optional), inputs scaled to [-1, 1], torchmetrics' weights.
- L1 in the hole: mean absolute error over hole pixels and channels (0 when the mask is empty).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.functional.image import structural_similarity_index_measure
from torchmetrics.image import LearnedPerceptualImagePatchSimilarity

from inpaint_lightning.pretrained import make_lpips

MAX_PSNR_MSE_FLOOR = 1e-10
_SSIM_BORDER = 5  # half the 11-tap Gaussian window


def psnr(output: Tensor, target: Tensor) -> Tensor:
    """Per-image PSNR in dB (data range 1), finite for identical images (see module docstring)."""
    mse = (output.double() - target.double()).pow(2).flatten(1).mean(1)
    return (10.0 * torch.log10(1.0 / mse.clamp_min(MAX_PSNR_MSE_FLOOR))).float()


def ssim(output: Tensor, target: Tensor) -> Tensor:
    """Per-image SSIM, 11x11 Gaussian window (sigma 1.5), data range 1, averaged over the windows that lie
    inside the image (as scikit-image's ``structural_similarity`` and the reference MATLAB code; torchmetrics
    alone would also average the 5-pixel border computed on reflected pixels)."""
    _, full = structural_similarity_index_measure(
        output.float(), target.float(), gaussian_kernel=True, sigma=1.5, kernel_size=11,
        reduction="none", data_range=1.0, return_full_image=True,
    )  # fmt: skip
    if min(full.shape[-2:]) > 2 * _SSIM_BORDER:
        full = full[..., _SSIM_BORDER:-_SSIM_BORDER, _SSIM_BORDER:-_SSIM_BORDER]
    return full.flatten(1).mean(1).float()


def rgb_to_y(image: Tensor) -> Tensor:
    """ITU-R BT.601 luma as MATLAB's ``rgb2ycbcr`` (and BasicSR's ``bgr2ycbcr(y_only=True)``) computes it:
    ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255`` for RGB in [0, 1], so Y lies in [16, 235] / 255."""
    r, g, b = image[:, 0:1].float(), image[:, 1:2].float(), image[:, 2:3].float()
    return (16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0


def _crop(image: Tensor, border: int) -> Tensor:
    return image[..., border:-border, border:-border] if border else image


def psnr_y(output: Tensor, target: Tensor, crop_border: int = 0) -> Tensor:
    """Per-image PSNR on the Y channel with ``crop_border`` pixels cut from each side: the convention of
    super-resolution papers (BasicSR's ``calculate_psnr(test_y_channel=True, crop_border=scale)``)."""
    return psnr(_crop(rgb_to_y(output), crop_border), _crop(rgb_to_y(target), crop_border))


def ssim_y(output: Tensor, target: Tensor, crop_border: int = 0) -> Tensor:
    """Per-image SSIM (:func:`ssim`'s definition) on the Y channel after cropping ``crop_border`` pixels."""
    return ssim(_crop(rgb_to_y(output), crop_border), _crop(rgb_to_y(target), crop_border))


def region_l1(output: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-image mean absolute error inside ``mask`` (over its pixels x 3 channels): inpainting's hole, or
    every pixel (restoration's whole-image L1)."""
    diff = (output.float() - target.float()).abs() * mask
    area = mask.flatten(1).sum(1) * output.shape[1]
    return diff.flatten(1).sum(1) / area.clamp_min(1)


def hole_ratio(mask: Tensor) -> Tensor:
    """Per-image fraction of pixels that are hole."""
    return mask.float().flatten(1).mean(1)


class PerImageLPIPS(torch.nn.Module):
    """LPIPS per image (torchmetrics' network and weights; its metric class only returns batch means)."""

    def __init__(self, net: Literal["alex", "vgg"] = "alex") -> None:
        super().__init__()
        metric = make_lpips(net)
        assert metric is not None
        self.net = metric.net
        self.net_type = net

    @torch.no_grad()
    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        return self.net(output.float(), target.float(), normalize=True).flatten()


def bucket_of(ratio: float, width: float = 0.1) -> str:
    """Hole-ratio bucket label, 10 % bins: ``0.05 -> "00-10"``, ``0.1 -> "10-20"``, ``1.0 -> "90-100"``."""
    steps = round(1 / width)
    i = min(int(ratio / width + 1e-9), steps - 1)  # a ratio of exactly 1 belongs to the last bin
    lo, hi = round(i * width * 100), round((i + 1) * width * 100)
    return f"{lo:02d}-{hi:02d}"


class PerImageMean(Metric):
    """Mean over images of per-image values (float64 sums), synced across processes."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("total", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")

    def update(self, values: torch.Tensor) -> None:
        self.total += values.double().sum()
        self.count += values.numel()

    def compute(self) -> torch.Tensor:
        return (self.total / self.count.clamp_min(1)).float()


class ImageMetrics:
    """PSNR and SSIM per image, computed once per batch and averaged over the epoch, and LPIPS, for images in
    [0, 1], with exactly the definitions of this module (so validation, ``test`` and ``evaluate`` agree).

    :meth:`update` returns the batch's per-image values, so per-bucket tables reuse them instead of computing
    PSNR/SSIM a second time. ``y_channel_border`` (restoration: the scale) adds ``psnr_y``/``ssim_y``, the
    super-resolution papers' convention.
    """

    def __init__(
        self,
        prefix: str,
        lpips: LearnedPerceptualImagePatchSimilarity | None,
        y_channel_border: int | None = None,
    ) -> None:
        self.prefix, self.lpips = prefix, lpips
        self.fns: dict[str, Callable[[Tensor, Tensor], Tensor]] = {"psnr": psnr, "ssim": ssim}
        if y_channel_border is not None:
            self.fns["psnr_y"] = functools.partial(psnr_y, crop_border=y_channel_border)
            self.fns["ssim_y"] = functools.partial(ssim_y, crop_border=y_channel_border)
        self.means = {name: PerImageMean() for name in self.fns}

    def update(self, output: Tensor, target: Tensor) -> dict[str, Tensor]:
        values = {name: fn(output, target) for name, fn in self.fns.items()}
        for name, v in values.items():
            self.means[name].update(v)
        if self.lpips is not None:
            self.lpips.update(output, target)
        return values

    def compute(self) -> dict[str, Tensor]:
        out = {f"{self.prefix}{name}": mean.compute() for name, mean in self.means.items()}
        if self.lpips is not None:
            out[f"{self.prefix}lpips"] = self.lpips.compute()
        return out

    def reset(self) -> None:
        for metric in (*self.means.values(), *([self.lpips] if self.lpips is not None else [])):
            metric.reset()

    def to(self, device: torch.device | str) -> ImageMetrics:
        for metric in (*self.means.values(), *([self.lpips] if self.lpips is not None else [])):
            metric.to(device)
        return self


def image_metrics(
    prefix: str, lpips: LearnedPerceptualImagePatchSimilarity | None, y_channel_border: int | None = None
) -> ImageMetrics:
    """:class:`ImageMetrics` (kept as the name scripts and notebooks use)."""
    return ImageMetrics(prefix, lpips, y_channel_border)
