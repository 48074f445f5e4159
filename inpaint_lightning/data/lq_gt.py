"""Real restoration pairs that users bring: a folder of low-quality images (``lq/``) beside their ground truth
(``gt/``), e.g. LOL low/high, GoPro blur/sharp, SIDD noisy/clean, DIV2K LR_bicubic/X4 and HR, or what
``python -m inpaint_lightning degrade`` writes.

Files pair by their path relative to the folder, without extension (``lq/a/b.png`` with ``gt/a/b.jpg``); an
``x<scale>`` suffix on the low-quality name is ignored (DIV2K's ``0001x4.png`` pairs with ``0001.png``). Images
without a partner are reported once, by name. Each pair must line up at the pair set's scale: the ground truth
is ``scale`` times the low-quality size (up to ``scale - 1`` extra pixels, which are cropped, as DIV2K's HR
images are), else the pair is skipped with a warning naming it. Training takes the same random crop (at
positions on the scale's grid), flips and rotations on both images.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from inpaint_lightning import notices
from inpaint_lightning.data.io import UnreadableImageError, filter_readable, list_images, read_image
from inpaint_lightning.errors import StartupError

_SCALE_SUFFIX = re.compile(r"x\d+$", re.IGNORECASE)


class MisalignedPairError(ValueError):
    """A low-quality image and its ground truth do not line up at the expected scale."""


@dataclass(frozen=True)
class PathPair:
    name: str
    lq: Path
    gt: Path


def is_paired_root(root: str | Path) -> bool:
    """Whether ``root`` holds ``lq/`` and ``gt/`` (or ``train/lq`` and ``train/gt``)."""
    root = Path(root)
    return all((root / sub).is_dir() for sub in ("lq", "gt")) or all(
        (root / "train" / sub).is_dir() for sub in ("lq", "gt")
    )


def _key(path: Path, folder: Path, strip_scale: bool) -> str:
    rel = path.relative_to(folder).with_suffix("")
    stem = _SCALE_SUFFIX.sub("", rel.name) if strip_scale else rel.name
    return (rel.parent / stem).as_posix()


def pair_lq_gt(lq_dir: str | Path, gt_dir: str | Path) -> list[PathPair]:
    """Pairs of readable ``lq``/``gt`` files by relative name (see module docstring), sorted by name.

    Raises:
        StartupError: a folder is missing or no pair is found (one line, naming both folders).
    """
    lq_dir, gt_dir = Path(lq_dir), Path(gt_dir)
    for folder, what in ((lq_dir, "low-quality"), (gt_dir, "ground-truth")):
        if not folder.is_dir():
            raise StartupError(f"{what} folder not found: {folder}")
    gts = {_key(p, gt_dir, False): p for p in filter_readable(list_images(gt_dir), "ground-truth image")}
    pairs, orphans = [], []
    for lq in filter_readable(list_images(lq_dir), "low-quality image"):
        exact, loose = _key(lq, lq_dir, False), _key(lq, lq_dir, True)
        key = exact if exact in gts else loose
        if key in gts:
            pairs.append(PathPair(key, lq, gts.pop(key)))
        else:
            orphans.append(lq.relative_to(lq_dir).as_posix())
    orphans += [p.relative_to(gt_dir).as_posix() for p in gts.values()]
    if orphans:
        shown = ", ".join(orphans[:5]) + (f" and {len(orphans) - 5} more" if len(orphans) > 5 else "")
        notices.warn(f"{len(orphans)} image(s) without a partner in {lq_dir} / {gt_dir}, skipped: {shown}")
    if not pairs:
        raise StartupError(f"no lq/gt pair found in {lq_dir} and {gt_dir} (files pair by relative name)")
    return sorted(pairs, key=lambda p: p.name)


def pair_scale(lq: np.ndarray, gt: np.ndarray) -> int:
    """The integer scale between a pair (ground truth over low quality), allowing DIV2K's extra pixels."""
    return max(1, gt.shape[0] // max(1, lq.shape[0]))


MIN_CORRELATION = 0.2
"""A pair whose ground truth, brought to the low-quality size, correlates less than this with it (grey levels,
normalised cross-correlation: blind to brightness and contrast, so dark/bright pairs pass) is another photo."""


def align(
    lq: np.ndarray, gt: np.ndarray, scale: int, name: str = "pair", check_content: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Crop ``gt`` to exactly ``scale`` x ``lq``'s size and (``check_content``) check the two show the same scene;
    raise :class:`MisalignedPairError` when the sizes do not line up or the content does not match."""
    (lh, lw), (gh, gw) = lq.shape[:2], gt.shape[:2]
    if not (lh * scale <= gh < (lh + 1) * scale and lw * scale <= gw < (lw + 1) * scale):
        raise MisalignedPairError(
            f"{name}: ground truth {gw} x {gh} is not {scale} x the low-quality {lw} x {lh}"
        )
    gt = gt[: lh * scale, : lw * scale]
    if not check_content:
        return lq, gt
    small = cv2.resize(gt, (lw, lh), interpolation=cv2.INTER_AREA) if scale > 1 else gt
    a, b = (x.astype(np.float32).mean(axis=2).ravel() for x in (lq, small))
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    correlation = float((a * b).sum()) / denom if denom > 0 else 1.0  # flat images carry no evidence
    if correlation < MIN_CORRELATION:
        raise MisalignedPairError(
            f"{name}: low-quality and ground-truth images do not show the same scene (correlation "
            f"{correlation:.2f} < {MIN_CORRELATION})"
        )
    return lq, gt


def find_scale(pairs: list[PathPair]) -> int:
    """The pair set's scale, measured on its first readable pair."""
    for pair in pairs:
        try:
            return pair_scale(read_image(pair.lq), read_image(pair.gt))
        except UnreadableImageError:
            continue
    raise StartupError(f"no readable lq/gt pair among {len(pairs)}")


def paired_splits(
    root: str | Path, val_ratio: float, test_ratio: float, seed: int
) -> dict[str, list[PathPair]]:
    """``train``/``val``/``test`` pairs of ``root``: its ``train/``, ``val/`` (``test/``) sub-folders when
    present (each with ``lq/`` and ``gt/``), else ``root/lq`` + ``root/gt`` split by ratio with a fixed seed."""
    from inpaint_lightning.data.sources import split_indices

    root = Path(root)
    if (root / "train").is_dir():
        splits = {s: pair_lq_gt(root / s / "lq", root / s / "gt") for s in ("train", "val")}
        test = root / "test"
        splits["test"] = pair_lq_gt(test / "lq", test / "gt") if test.is_dir() else splits["val"]
        return splits
    pairs = pair_lq_gt(root / "lq", root / "gt")
    idx = split_indices(len(pairs), val_ratio, test_ratio, seed)
    return {split: [pairs[i] for i in indices] for split, indices in idx.items()}


class PairedImages(Dataset):
    """``{"input", "target", "index"}`` crops of real lq/gt pairs; the same geometry on both images.

    Args:
        pairs: from :func:`pair_lq_gt` / :func:`paired_splits`.
        size: side of the ground-truth crop (a multiple of ``scale``); the low-quality crop is ``size / scale``.
        scale: the pairs' scale (:func:`find_scale`).
        train: random crop, flips and 90-degree rotations seeded by ``[seed, 1, index]``; else the centre crop.
    """

    def __init__(self, pairs: list[PathPair], size: int, scale: int, train: bool, seed: int = 0) -> None:
        if size % scale:
            raise StartupError(f"--data.image_size {size} must be a multiple of the pairs' scale {scale}")
        self.pairs, self.size, self.scale, self.train, self.seed = pairs, size, scale, train, seed
        self._skipped: set[str] = set()
        # pairs whose content matched once: the check is not repeated per crop
        self._checked: set[str] = set()

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self, i: int) -> tuple[int, np.ndarray, np.ndarray]:
        """Pair ``i`` aligned and at least one crop large, or the next usable one (each bad pair warned once)."""
        n = len(self.pairs)
        for step in range(n):
            j = (i + step) % n
            pair = self.pairs[j]
            if pair.name in self._skipped:  # known bad: not read again
                continue
            try:
                lq, gt = align(
                    read_image(pair.lq), read_image(pair.gt), self.scale, pair.name,
                    check_content=pair.name not in self._checked,
                )  # fmt: skip
                self._checked.add(pair.name)
                if min(lq.shape[:2]) * self.scale < self.size:
                    raise MisalignedPairError(
                        f"{pair.name}: {lq.shape[1]} x {lq.shape[0]} is smaller than a "
                        f"{self.size // self.scale} px crop"
                    )
                return j, lq, gt
            except (UnreadableImageError, MisalignedPairError) as err:
                if pair.name not in self._skipped:
                    self._skipped.add(pair.name)
                    notices.warn(f"skipping pair ({len(self._skipped)} so far): {err}")
        raise RuntimeError(f"no usable pair among the {n} in this dataset")

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, 1 if self.train else 2, int(index)])
        item, lq, gt = self._load(int(index) % len(self.pairs))
        s, crop = self.scale, self.size // self.scale
        h, w = lq.shape[:2]
        if self.train:
            top, left = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
        else:
            top, left = (h - crop) // 2, (w - crop) // 2
        lq = lq[top : top + crop, left : left + crop]
        gt = gt[top * s : (top + crop) * s, left * s : (left + crop) * s]
        if self.train:
            flip, turns = bool(rng.integers(2)), int(rng.integers(4))
            lq, gt = (np.rot90(a[:, ::-1] if flip else a, turns) for a in (lq, gt))

        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).float().div_(255.0)

        return {"input": tensor(lq), "target": tensor(gt), "index": torch.tensor(item)}
