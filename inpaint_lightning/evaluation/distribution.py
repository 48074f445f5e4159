"""FID and KID between inpainted outputs and their ground truth (torchmetrics, torch-fidelity's Inception).

Both run on the same Inception-v3 features (the 2048-d pool, "inception-v3-compat", the TF-FID network that
papers use). The features of a batch are computed once and shared by the two metrics.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from inpaint_lightning.errors import MissingWeightsError
from inpaint_lightning.pretrained import torchvision_weights_path

#: torch-fidelity's Inception weights file (downloaded into the torch hub cache on first use).
INCEPTION_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"


def inception_features(weights_path: str | os.PathLike | None = None) -> nn.Module:
    """The FID Inception network, from ``weights_path`` or the torch hub cache (downloaded when online).

    Raises:
        MissingWeightsError: the weights are neither at ``weights_path`` nor downloadable.
    """
    from torchmetrics.image.fid import NoTrainInceptionV3

    if weights_path is not None and not Path(weights_path).is_file():
        raise MissingWeightsError(f"Inception weights for FID/KID not found: {weights_path}")
    try:
        return NoTrainInceptionV3(
            name="inception-v3-compat",
            features_list=["2048"],
            feature_extractor_weights_path=None if weights_path is None else str(weights_path),
        )
    except Exception as err:  # URLError/HTTPError/OSError: no file and no download
        raise MissingWeightsError(
            f"FID/KID need torch-fidelity's Inception weights ({INCEPTION_WEIGHTS}); they are not at "
            f"{torchvision_weights_path(INCEPTION_WEIGHTS)} and could not be downloaded "
            f"({type(err).__name__}). Download it once from the torch-fidelity v0.2.0 release and pass "
            f"--inception-weights PATH (or put it in that cache folder), or leave out --fid/--kid."
        ) from None


class _SharedFeatures(nn.Module):
    """Runs the extractor once per distinct batch, so FID and KID do not each recompute the same features."""

    def __init__(self, extractor: nn.Module) -> None:
        super().__init__()
        self.extractor = extractor
        self._cache: list[tuple[Tensor, Tensor]] = []
        self.num_features = 2048 if not hasattr(extractor, "num_features") else extractor.num_features

    def forward(self, x: Tensor) -> Tensor:
        for seen, features in self._cache:
            if seen.shape == x.shape and seen.dtype == x.dtype and torch.equal(seen, x):
                return features
        features = self.extractor(x)
        self._cache = [*self._cache[-1:], (x, features)]  # real and fake of the current batch
        return features


class DistributionMetrics:
    """FID and/or KID over a whole set: ``update(output, target)`` per batch, ``compute()`` at the end.

    Args:
        fid / kid: which to compute.
        extractor: feature network (tests pass a small one); default: :func:`inception_features`.
        weights_path: Inception weights file for offline use.
        kid_subset_size: KID subset size (capped at the number of images at compute time).
    """

    def __init__(
        self,
        fid: bool = True,
        kid: bool = True,
        extractor: nn.Module | None = None,
        weights_path: str | os.PathLike | None = None,
        kid_subset_size: int = 1000,
    ) -> None:
        shared = _SharedFeatures(extractor if extractor is not None else inception_features(weights_path))
        self.fid = FrechetInceptionDistance(feature=shared, normalize=True) if fid else None
        self.kid = (
            KernelInceptionDistance(feature=shared, normalize=True, subset_size=kid_subset_size)
            if kid
            else None
        )
        self.count = 0

    def to(self, device: torch.device | str) -> DistributionMetrics:
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.to(device)
        return self

    @torch.no_grad()
    def update(self, output: Tensor, target: Tensor) -> None:
        """Add a batch of inpainted outputs and their ground truth (``B x 3 x H x W`` in [0, 1])."""
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.update(target.float().clamp(0, 1), real=True)
                metric.update(output.float().clamp(0, 1), real=False)
        self.count += output.shape[0]

    def compute(self) -> dict[str, float]:
        """``{"fid": ..., "kid": ..., "kid_std": ...}`` for what was enabled (FID needs >= 2 images)."""
        results: dict[str, float] = {}
        if self.count < 2:
            return results
        if self.fid is not None:
            results["fid"] = float(self.fid.compute())
        if self.kid is not None:
            self.kid.subset_size = min(self.kid.subset_size, self.count)
            mean, std = self.kid.compute()
            results["kid"], results["kid_std"] = float(mean), float(std)
        return results
