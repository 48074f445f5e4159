"""Synthetic training pairs (a clean photo and its corrupted copy), and a sampler that makes every sample's
randomness reproducible."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

import albumentations as A
import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from inpaint_lightning import notices
from inpaint_lightning.data.corruption import Corruption
from inpaint_lightning.data.io import UnreadableImageError
from inpaint_lightning.data.sources import ImageList

_TRAIN_STREAM, _EVAL_STREAM, _REFERENCE_STREAM = 1, 2, 3


class SyntheticPairs(Dataset):
    """Loads a clean image, augments it, corrupts it; returns a dict of float32 tensors.

    Keys: ``target`` (3xHxW clean, [0, 1]), what the corruption returns (``input``: the network's input, the
    masked or degraded photo in [0, 1], ``1 / scale`` of the target's size; inpainting also ``mask``, 1xHxW,
    1 = hole) and ``index``. Each sample's randomness comes from ``numpy.random.default_rng([seed, stream, index])``:
    validation/test use the plain index, so their masks never change; training receives from
    :class:`EpochSampler` an index that also encodes the epoch, so training masks differ every epoch yet replay
    exactly after a resume or in any worker layout.
    """

    def __init__(
        self, images: ImageList, transform: A.Compose, corruption: Corruption, train: bool, seed: int = 0
    ) -> None:
        self.images, self.transform, self.corruption = images, transform, corruption
        self.train, self.seed = train, seed
        self._skipped: set[str] = set()

    def __len__(self) -> int:
        return len(self.images)

    def _load(self, i: int) -> tuple[int, np.ndarray]:
        return load_readable(self.images, i, self._skipped)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        stream = _TRAIN_STREAM if self.train else _EVAL_STREAM
        rng = np.random.default_rng([self.seed, stream, int(index)])
        item, image = self._load(int(index) % len(self.images))
        sample_index = int(index) if self.train else item
        target = self.corruption.spatial_target(image.shape[0], image.shape[1], rng, sample_index, self.train)
        self.transform.set_random_seed(int(rng.integers(2**31)))
        out = self.transform(image=image, mask=target) if target is not None else self.transform(image=image)
        clean = to_tensor(out["image"])
        mask = torch.from_numpy(np.ascontiguousarray(out["mask"])).float() if target is not None else None
        corrupted = self.corruption(clean, rng, sample_index, self.train, target=mask)
        return {"target": clean, **corrupted, "index": torch.tensor(item)}


def load_readable(images: ImageList, i: int, skipped: set[str]) -> tuple[int, np.ndarray]:
    """Item ``i`` of ``images``, or the next readable one; an unreadable file is skipped with one warning (its
    name is remembered in ``skipped``)."""
    n = len(images)
    for step in range(n):
        j = (i + step) % n
        try:
            return j, images.load(j)
        except UnreadableImageError as err:
            name = images.name(j)
            if name not in skipped:
                skipped.add(name)
                notices.warn(f"Skipping unreadable image ({len(skipped)} so far): {err}")
    raise RuntimeError(f"No readable image among the {n} in this dataset")


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """``H x W x 3`` uint8 -> ``3 x H x W`` float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)


class WithReference(Dataset):
    """``base``'s samples, each with a ``reference``: a random crop of a random photo of ``references`` (the look an
    unpaired enhancement model learns; unrelated to the sample's own photo). Seeded by ``[seed, stream, index]``
    like the samples themselves, so it replays after a resume and in any worker layout."""

    def __init__(self, base: Dataset, references: ImageList, transform: A.Compose, seed: int = 0) -> None:
        self.base, self.references, self.transform, self.seed = base, references, transform, seed
        self._skipped: set[str] = set()

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, _REFERENCE_STREAM, int(index)])
        _, image = load_readable(self.references, int(rng.integers(len(self.references))), self._skipped)
        self.transform.set_random_seed(int(rng.integers(2**31)))
        return {**self.base[index], "reference": to_tensor(self.transform(image=image)["image"])}


class EpochSampler(DistributedSampler):
    """A shuffling ``DistributedSampler`` (works for one process too) that yields ``epoch * len + i``.

    The dataset reduces the index modulo its length and seeds augmentation and masks from the full value, so
    randomness depends only on (seed, epoch, position): no global RNG state, no worker seeds involved. Lightning
    calls ``set_epoch`` on it and leaves it in place under DDP (it already is a ``DistributedSampler``).
    """

    def __init__(
        self, dataset: Dataset, num_replicas: int = 1, rank: int = 0, seed: int = 0, drop_last: bool = True
    ) -> None:
        super().__init__(
            dataset,
            num_replicas=num_replicas,
            rank=rank,
            shuffle=True,
            seed=seed,
            drop_last=drop_last and len(dataset) >= num_replicas,
        )  # type: ignore[arg-type]
        self.skip = 0  # samples of this epoch already consumed before a mid-epoch resume

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)  # type: ignore[arg-type]
        offset = self.epoch * n
        indices = list(super().__iter__())[self.skip :]
        self.skip = 0
        return iter(offset + i for i in indices)


def worker_count(requested: int) -> int:
    """Cap DataLoader workers at the CPUs this process may use."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = math.inf
    return int(min(requested, cpus))
