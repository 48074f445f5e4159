"""Pretrained ImageNet weights: where torchvision keeps them, and LPIPS (AlexNet or VGG, torchmetrics) built at
start-up so missing weights stop a run before it trains. Below the models, losses and evaluation that use them;
the metrics themselves are in :mod:`inpaint_lightning.evaluation.metrics`."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Literal

import torch
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
