"""LightningDataModule yielding task-neutral batches: ``input`` (masked or degraded photo), ``target`` (clean)
and, for inpainting, ``mask``; from clean photos corrupted on the fly, or from real lq/gt pairs."""

from __future__ import annotations

import os

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from inpaint_lightning.data.corruption import Corruption, HoleCorruption
from inpaint_lightning.data.dataset import EpochSampler, SyntheticPairs, WithReference, worker_count
from inpaint_lightning.data.eval_sets import EvalPairs, collate
from inpaint_lightning.data.lq_gt import PairedImages, PathPair, find_scale, is_paired_root, paired_splits
from inpaint_lightning.data.mask_pairing import pair_paths
from inpaint_lightning.data.sources import (
    ImageList,
    embedded_splits,
    folder_splits,
    image_folder,
    require_folder,
)
from inpaint_lightning.data.transforms import eval_transform, train_transform
from inpaint_lightning.errors import StartupError


class ImageDataModule(L.LightningDataModule):
    """Batches from a folder tree or, with no ``root``, from scikit-image's embedded photos.

    Batches are dicts: ``target`` (Bx3xHxW float32 in [0, 1], the clean photo), ``input`` (the network's
    input: the masked photo, or the degraded one, ``1 / scale`` of the size for super-resolution), for
    inpainting ``mask`` (Bx1xHxW float32 in {0, 1}, **1 = hole**), and ``index``.

    Args:
        root: folder of images (jpg, png, webp, bmp, tif; searched recursively). With ``train/``, ``val/``
            (and optionally ``test/``) subfolders those are the splits; otherwise one folder is split by ratio.
            A folder with ``lq/`` and ``gt/`` (or ``train/lq``, ``train/gt``...) holds **real restoration
            pairs** (:mod:`inpaint_lightning.data.lq_gt`): they are trained on as they are, at their own
            scale, and ``corruption`` is not used. None uses the embedded photos.
        image_size: side of the square crops the model sees.
        batch_size: per process (per GPU under DDP).
        num_workers: DataLoader workers (capped at the CPUs available).
        val_ratio: fraction held out for validation when splitting one folder.
        test_ratio: fraction held out for test when splitting one folder (0 reuses validation).
        split_seed: seed of that split; fixed so the split never changes between runs.
        corruption: how a clean image becomes the input (holes from free-form strokes and boxes by default).
        eval_corruption: corruption for validation/test; defaults to ``corruption``.
        eval_seed: seed of validation/test masks; they depend only on it and the sample index.
        seed: seed of training order, augmentation and masks; None follows ``seed_everything``.
        crop_scale: area range of the training random resized crop; None crops at the photos' own pixel scale
            (training and validation; flips and quarter turns, no resampling): what super-resolution needs.
        augment: flips, mild affine (quarter turns instead when ``crop_scale`` is None) and colour jitter in
            training.
        color_jitter: the jitter's strength (brightness, contrast, saturation; hue a fifth of it); 0 for tasks
            whose target *is* the colour (enhancement: a jittered target would teach a jittered look).
        embedded_tile: crop size the embedded photos are cut into.
        test_images: a folder of test images scored with fixed masks from ``test_masks`` (the evaluation
            protocol; replaces the test split). Images are centre-cropped to ``image_size``.
        test_masks: folder of test masks, paired by name or by stable assignment
            (:func:`inpaint_lightning.data.mask_pairing.pair_paths`; files work too); default: ``<stem>_mask*`` files in
            ``test_images``.
        test_invert_masks: the test masks mark holes in black.
        test_pair_seed: seed of the stable assignment of masks to test images.
        predict_images: ``predict`` runs on this folder of full-size images (one per batch) instead of the test
            split: inpainting pairs them with ``predict_masks`` (:func:`inpaint_lightning.data.mask_pairing.pair_paths`),
            restoration restores them as they are.
        predict_masks: folder of masks for ``predict_images`` (None: ``<stem>_mask*`` files among the images).
        max_side: shrink ``root`` images on load so the longer side is at most this (LaMa trains 256 px crops
            of ~512 px photos: the scene scale of evaluation, and much cheaper decoding); None keeps them.
        cache_images: keep the decoded (shrunk) ``root`` images in memory after first use (per worker).
        reference: a folder of photos with the look to learn (unpaired enhancement, ``model.task
            enhance_unpaired``): every training sample also carries a random crop of one as ``reference``.
        exclude: file-name globs of ``root`` images to leave out of every split, e.g. ``[bsds_*, set14_*]`` to
            keep a benchmark's test images (CBSD68, Set14) out of training when they share the folder.
    """

    def __init__(
        self,
        root: str | None = None,
        image_size: int = 128,
        batch_size: int = 8,
        num_workers: int = 2,
        val_ratio: float = 0.1,
        test_ratio: float = 0.1,
        split_seed: int = 0,
        corruption: Corruption | None = None,
        eval_corruption: Corruption | None = None,
        eval_seed: int = 0,
        seed: int | None = None,
        crop_scale: tuple[float, float] | None = (0.3, 1.0),
        augment: bool = True,
        color_jitter: float = 0.1,
        embedded_tile: int = 128,
        test_images: str | None = None,
        test_masks: str | None = None,
        test_invert_masks: bool = False,
        test_pair_seed: int = 0,
        predict_images: str | None = None,
        predict_masks: str | None = None,
        max_side: int | None = None,
        cache_images: bool = False,
        exclude: list[str] | None = None,
        reference: str | None = None,
    ) -> None:
        super().__init__()
        if image_size < 8:
            raise ValueError(f"image_size must be >= 8, got {image_size}")
        self.root, self.image_size, self.batch_size = root, image_size, batch_size
        self.num_workers = worker_count(num_workers)
        self.val_ratio, self.test_ratio, self.split_seed = val_ratio, test_ratio, split_seed
        self.corruption: Corruption = corruption if corruption is not None else HoleCorruption()
        self.eval_corruption: Corruption = eval_corruption if eval_corruption is not None else self.corruption
        if self.corruption.task != self.eval_corruption.task:
            raise StartupError(
                f"data.eval_corruption makes {self.eval_corruption.task} samples but data.corruption "
                f"{self.corruption.task} ones: validation must be the same task (kernel_size on both for deconvolve)"
            )
        for corr in (self.corruption, self.eval_corruption):
            if image_size % corr.scale:
                raise StartupError(
                    f"--data.image_size {image_size} must be a multiple of the degradation's scale {corr.scale} "
                    f"(low- and high-resolution crops must align)"
                )
        self.eval_seed, self.seed = eval_seed, seed
        self.crop_scale, self.augment, self.embedded_tile = crop_scale, augment, embedded_tile
        self.color_jitter = color_jitter
        self.predict_images, self.predict_masks = predict_images, predict_masks
        self.splits: dict[str, ImageList] = {}
        self.pairs: dict[str, list[PathPair]] = {}
        self.pair_scale: int | None = None
        self.datasets: dict[str, Dataset] = {}
        if root is not None and is_paired_root(root):  # real lq/gt pairs: listed and measured now
            self.pairs = paired_splits(root, val_ratio, test_ratio, split_seed)
            self.pair_scale = find_scale(self.pairs["train"])
            if image_size % self.pair_scale:
                raise StartupError(
                    f"--data.image_size {image_size} must be a multiple of the pairs' scale {self.pair_scale}"
                )
            print(
                f"{root}: {sum(len(p) for p in self.pairs.values())} real lq/gt pairs at scale "
                f"{self.pair_scale} (data.corruption is not used)"
            )
        elif root is not None:  # listed now: a wrong path fails at start-up, before a model is built
            self.splits = folder_splits(root, val_ratio, test_ratio, split_seed, exclude or ())
            for images in self.splits.values():
                images.max_side, images.cache = max_side, cache_images
        self.references = None
        if reference is not None:  # listed now: a wrong path fails at start-up
            self.references = image_folder(require_folder(reference))
            self.references.max_side, self.references.cache = max_side, cache_images
        self.test_pairs = None
        if test_images is not None:
            self.test_pairs = pair_paths(test_images, test_masks, seed=test_pair_seed)
        self.test_invert_masks = test_invert_masks

    def _train_seed(self) -> int:
        if self.seed is not None:
            return self.seed
        return int(os.environ.get("PL_GLOBAL_SEED", 0))

    @property
    def scale(self) -> int:
        """How many times smaller ``input`` is than ``target`` (the generator must up-scale by as much)."""
        return self.pair_scale if self.pair_scale is not None else self.corruption.scale

    def setup(self, stage: str | None = None) -> None:
        if self.pairs:
            self._setup_pairs()
            return
        if not self.splits:  # folder splits were listed in __init__; the embedded photos are cut here
            tile = max(self.embedded_tile, self.image_size)
            self.splits = embedded_splits(tile, self.val_ratio, self.test_ratio, self.split_seed)
        size = self.image_size
        if self.augment:
            train_tf = train_transform(size, crop_scale=self.crop_scale, color=self.color_jitter)
        else:
            train_tf = train_transform(size, crop_scale=self.crop_scale, hflip=False, affine=False, color=0.0)
        self.datasets = {
            "train": SyntheticPairs(
                self.splits["train"], train_tf, self.corruption, train=True, seed=self._train_seed()
            )
        }
        if self.references is not None:
            self.datasets["train"] = WithReference(
                self.datasets["train"], self.references, train_tf, seed=self._train_seed()
            )
        for split in ("val", "test"):
            self.datasets[split] = SyntheticPairs(
                self.splits[split],
                eval_transform(size, native=self.crop_scale is None),
                self.eval_corruption,
                train=False,
                seed=self.eval_seed,
            )
        self.datasets["predict"] = self.datasets["test"]
        self._setup_predict_folder()
        if self.test_pairs is not None:
            self.datasets["test"] = EvalPairs(self.test_pairs, size=size, invert=self.test_invert_masks)

    def _setup_pairs(self) -> None:
        assert self.pair_scale is not None
        self.datasets = {
            split: PairedImages(
                pairs, self.image_size, self.pair_scale, train=split == "train",
                seed=self._train_seed() if split == "train" else self.eval_seed,
            )
            for split, pairs in self.pairs.items()
        }  # fmt: skip
        self.datasets["predict"] = self.datasets["test"]
        self._setup_predict_folder()

    def _setup_predict_folder(self) -> None:
        """``predict_images``: image/mask pairs for inpainting, the images alone for restoration and detection."""
        if self.predict_images is None:
            return
        from inpaint_lightning.data.predict_sets import FolderImages, FolderPairs

        if not self.pairs and self.corruption.task == "deconvolve":
            raise StartupError(
                "--data.predict_images: a deconvolve model needs each photo's blur kernel; deblur folders with "
                "`restore --checkpoint ... --kernel ...`"
            )
        if self.pairs or self.corruption.task != "inpaint":
            if self.predict_masks is not None:
                raise StartupError(
                    "--data.predict_masks is for inpainting; restoration and detection predict from images alone"
                )
            self.datasets["predict"] = FolderImages(self.predict_images)
        else:
            self.datasets["predict"] = FolderPairs(self.predict_images, self.predict_masks)

    def _loader(self, split: str, **kwargs) -> DataLoader:
        return DataLoader(
            self.datasets[split],
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=self.num_workers > 0,
            **kwargs,
        )

    def train_dataloader(self) -> DataLoader:
        dataset = self.datasets["train"]
        trainer = self.trainer
        world, rank = (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)
        sampler = EpochSampler(dataset, num_replicas=world, rank=rank, seed=self._train_seed())
        if trainer is not None:
            sampler.set_epoch(trainer.current_epoch)
            sampler.skip = self._samples_done_this_epoch(len(sampler))
        return self._loader("train", sampler=sampler, drop_last=True)

    def _samples_done_this_epoch(self, samples_per_epoch: int) -> int:
        """After a mid-epoch resume, how many of this epoch's samples were already trained on.

        One training step is one batch here (see ``GANModule``), so ``global_step`` modulo the batches per
        epoch locates the resume point; skipping those samples makes a resumed run see exactly the data a
        straight run would.
        """
        trainer = self.trainer
        assert trainer is not None
        batches = samples_per_epoch // self.batch_size
        limit = trainer.limit_train_batches
        if isinstance(limit, int):
            batches = min(batches, limit)
        elif limit is not None and limit < 1.0:
            batches = int(batches * limit)
        if batches <= 0 or trainer.accumulate_grad_batches != 1:
            return 0
        return (trainer.global_step % batches) * self.batch_size

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        if self.test_pairs is not None:
            return self._loader("test", shuffle=False, collate_fn=collate)
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        if self.predict_images is not None:  # full-size images of mixed sizes: one per batch
            return DataLoader(
                self.datasets["predict"], batch_size=1, shuffle=False, num_workers=self.num_workers
            )
        return self._loader("predict", shuffle=False)


#: The first name of :class:`ImageDataModule` (from when inpainting was its only task); kept for code and notebooks.
InpaintDataModule = ImageDataModule
