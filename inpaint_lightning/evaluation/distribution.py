"""No-reference realism over a whole set: FID, KID and CoModGAN's P-IDS/U-IDS between inpainted outputs and
real photos (their ground truth), in a selectable embedding (:mod:`.embeddings`: torch-fidelity's Inception, the
papers' network, when its weights exist; ImageNet AlexNet or a seeded random network offline). The features of a
batch are computed once and shared by every measure.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
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
    """FID, KID and/or P-IDS/U-IDS over a whole set: ``update(output, target)`` per batch, ``compute()`` at the end.

    Args:
        fid / kid / ids: which to compute. KID is unbiased at small n and reported with its std over subsets and
            its n; FID only once n is at least twice the feature dimension (its covariance is singular below
            the dimension and noisy just above it), else it is left out and ``fid_needs_n`` says how many.
        extractor: feature network (tests pass a small one); default: ``embedding``'s.
        embedding: ``inception`` (needs torch-fidelity's weights), ``alexnet`` or ``random`` (offline).
        weights_path: Inception weights file for offline use.
        kid_subset_size: KID subset size, capped at half the number of images at compute time: subsets as large
            as the set are all the set itself, and their std (0) would say nothing about KID's spread.
        ids_seed: the seed of the P-IDS/U-IDS fit/score split.
    """

    def __init__(
        self,
        fid: bool = True,
        kid: bool = True,
        extractor: nn.Module | None = None,
        weights_path: str | os.PathLike | None = None,
        kid_subset_size: int = 1000,
        embedding: str = "inception",
        ids: bool = False,
        ids_seed: int = 0,
    ) -> None:
        if extractor is None:
            from inpaint_lightning.evaluation.embeddings import embedding as build

            extractor = build(embedding, None if weights_path is None else str(weights_path))  # type: ignore[arg-type]
        self.embedding = embedding
        self.shared = _SharedFeatures(extractor)
        self.fid = FrechetInceptionDistance(feature=self.shared, normalize=True) if fid else None
        self.kid = (
            KernelInceptionDistance(feature=self.shared, normalize=True, subset_size=kid_subset_size)
            if kid
            else None
        )
        self.ids, self.ids_seed = ids, ids_seed
        self._pairs: list[tuple[Tensor, Tensor]] = []
        self.count = 0

    def to(self, device: torch.device | str) -> DistributionMetrics:
        self.shared.to(device)
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.to(device)
        return self

    @torch.no_grad()
    def update(self, output: Tensor, target: Tensor) -> None:
        """Add a batch of inpainted outputs and their ground truth (``B x 3 x H x W`` in [0, 1])."""
        real, fake = target.float().clamp(0, 1), output.float().clamp(0, 1)
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.update(real, real=True)
                metric.update(fake, real=False)
        if self.ids:  # the same uint8 images the metrics embed: the shared features come from its cache
            as_bytes = [(x * 255).byte() for x in (real, fake)]
            self._pairs.append(tuple(self.shared(x).float().cpu() for x in as_bytes))  # type: ignore[arg-type]
        self.count += output.shape[0]

    def compute(self) -> dict[str, float]:
        """What was enabled: ``fid`` (or ``fid_needs_n``), ``kid``/``kid_std``, ``p_ids``/``u_ids``/``ids_pairs``,
        with ``n`` (images) and the embedding's ``features`` (FID needs n >= 2)."""
        results: dict[str, float] = {}
        if self.count < 2:
            return results
        dim = int(self.shared.num_features)
        results["n"], results["features"] = float(self.count), float(dim)
        if self.fid is not None:
            if self.count >= 2 * dim:
                results["fid"] = float(self.fid.compute())
            else:
                results["fid_needs_n"] = float(2 * dim)
        if self.kid is not None:
            self.kid.subset_size = min(self.kid.subset_size, max(2, self.count // 2))
            mean, std = self.kid.compute()
            results["kid"], results["kid_std"] = float(mean), float(std)
        if self.ids and self.count >= 4:
            from inpaint_lightning.evaluation.ids import discriminative_scores

            real = torch.cat([r for r, _ in self._pairs]).numpy()
            fake = torch.cat([f for _, f in self._pairs]).numpy()
            results.update(discriminative_scores(np.asarray(real), np.asarray(fake), self.ids_seed))
        return results
