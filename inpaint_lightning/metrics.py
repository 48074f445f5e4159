"""Image-quality metrics on composited outputs, and the start-up check for LPIPS' pretrained weights."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch
from torchmetrics import Metric, MetricCollection
from torchmetrics.image import LearnedPerceptualImagePatchSimilarity

from inpaint_lightning.errors import MissingWeightsError

LpipsNet = Literal["alex", "vgg", "off"]

#: The ImageNet checkpoints torchvision downloads for each LPIPS backbone.
LPIPS_WEIGHTS = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}


def torchvision_weights_path(filename: str) -> Path:
    """Where torchvision stores (and looks for) a downloaded checkpoint: ``$TORCH_HOME/hub/checkpoints``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def make_lpips(
    net: LpipsNet = "alex", on_missing: Literal["error", "disable"] = "error"
) -> LearnedPerceptualImagePatchSimilarity | None:
    """Build LPIPS (inputs in [0, 1]) now, so missing weights stop the run before training, not after it.

    Raises:
        MissingWeightsError: the backbone weights are not cached and cannot be downloaded, unless
            ``on_missing="disable"``, which warns and returns None.
    """
    if net == "off":
        return None
    try:
        return LearnedPerceptualImagePatchSimilarity(net_type=net, normalize=True)
    except Exception as err:  # URLError, HTTPError, OSError, RuntimeError: all mean "no usable weights"
        path = torchvision_weights_path(LPIPS_WEIGHTS[net])
        message = (
            f"LPIPS ({net}) needs the ImageNet weights file {path} "
            f"($TORCH_HOME={os.environ.get('TORCH_HOME', '<unset: ~/.cache/torch>')}) and torchvision could not "
            f"download it ({type(err).__name__}: {err}). Put the file there (offline here: "
            f"`python ../shared/weights/install_torch_hub_cache.py`), or set `model.lpips: off`, or "
            f"`model.on_missing_weights: disable` to train without LPIPS."
        )
        if on_missing == "disable":
            warnings.warn(message + " LPIPS is disabled for this run.", stacklevel=2)
            return None
        raise MissingWeightsError(message) from None


class PerImageMean(Metric):
    """Mean over images of a per-image metric ``fn(preds, target) -> (B,)``, synced across processes."""

    full_state_update = False

    def __init__(self, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn
        self.add_state("total", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        values = self.fn(preds, target)
        self.total += values.double().sum()
        self.count += values.numel()

    def compute(self) -> torch.Tensor:
        return (self.total / self.count.clamp_min(1)).float()


def image_metrics(prefix: str, lpips: LearnedPerceptualImagePatchSimilarity | None) -> MetricCollection:
    """PSNR and SSIM per image then averaged, and LPIPS, for images in [0, 1], with exactly the definitions of
    :mod:`inpaint_lightning.evaluation.metrics` (so validation, ``test`` and ``evaluate`` agree)."""
    from inpaint_lightning.evaluation import metrics as per_image

    metrics: dict = {"psnr": PerImageMean(per_image.psnr), "ssim": PerImageMean(per_image.ssim)}
    if lpips is not None:
        metrics["lpips"] = lpips
    return MetricCollection(metrics, prefix=prefix)
