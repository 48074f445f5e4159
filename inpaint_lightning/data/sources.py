"""Where clean images come from: a folder tree on disk, or photos embedded in scikit-image (no download).

A source is a list of items that can each be loaded as an RGB uint8 array; splitting into train/val/test
happens here, once, deterministically, so every run and every process sees the same split.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from inpaint_lightning.data.io import filter_readable, list_images, read_image
from inpaint_lightning.errors import DataNotFoundError

SPLITS = ("train", "val", "test")

#: Real colour photographs shipped inside scikit-image's wheel (no network needed).
EMBEDDED_PHOTOS: tuple[str, ...] = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "motorcycle_left.png",
    "retina.jpg",
    "rocket.jpg",
)


def shrink(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """``image`` scaled down (area filter) so its longer side is at most ``max_side``; None keeps it."""
    if max_side is None or max(image.shape[:2]) <= max_side:
        return image
    scale = max_side / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@dataclass
class ImageList:
    """Images to load lazily from ``paths`` or kept in memory as ``arrays`` (one of the two).

    ``max_side`` shrinks files on load (training at the scene scale of the evaluation, and cheaper decoding);
    ``cache`` keeps decoded, shrunk files in this process's memory, so after the first epoch a step decodes
    nothing (each DataLoader worker holds its own copy: at 512 px about 0.5 MB per photo).
    """

    paths: list[Path] = field(default_factory=list)
    arrays: list[np.ndarray] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    max_side: int | None = None
    cache: bool = False
    _memo: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.paths) or len(self.arrays)

    def load(self, i: int) -> np.ndarray:
        if self.arrays:
            return self.arrays[i]
        if i in self._memo:
            return self._memo[i]
        image = shrink(read_image(self.paths[i]), self.max_side)
        if self.cache:
            self._memo[i] = image
        return image

    def name(self, i: int) -> str:
        return self.names[i] if self.names else str(self.paths[i])

    def subset(self, indices: list[int]) -> ImageList:
        return ImageList(
            paths=[self.paths[i] for i in indices] if self.paths else [],
            arrays=[self.arrays[i] for i in indices] if self.arrays else [],
            names=[self.names[i] for i in indices] if self.names else [],
            max_side=self.max_side,
            cache=self.cache,
        )


def split_indices(n: int, val_ratio: float, test_ratio: float, seed: int) -> dict[str, list[int]]:
    """A seeded permutation cut into train/val/test; at least one val/test item when its ratio is > 0."""
    if not 0 <= val_ratio < 1 or not 0 <= test_ratio < 1 or val_ratio + test_ratio >= 1:
        raise ValueError(f"val_ratio + test_ratio must be in [0, 1), got {val_ratio} + {test_ratio}")
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val = max(1, round(n * val_ratio)) if val_ratio > 0 else 0
    n_test = max(1, round(n * test_ratio)) if test_ratio > 0 else 0
    if n - n_val - n_test < 1:
        raise ValueError(f"Too few images ({n}) for a train/val/test split of {val_ratio}/{test_ratio}")
    return {
        "val": sorted(order[:n_val]),
        "test": sorted(order[n_val : n_val + n_test]),
        "train": sorted(order[n_val + n_test :]),
    }


def ratio_splits(images: ImageList, val_ratio: float, test_ratio: float, seed: int) -> dict[str, ImageList]:
    """Split one list by :func:`split_indices`; with ``test_ratio = 0`` the test split reuses validation."""
    idx = split_indices(len(images), val_ratio, test_ratio, seed)
    if not idx["test"]:
        idx["test"] = idx["val"]
    return {split: images.subset(idx[split]) for split in SPLITS}


def image_folder(path: Path) -> ImageList:
    """The readable images of a folder tree (unreadable ones skipped with a warning)."""
    if not path.is_dir():
        raise DataNotFoundError(f"Image folder not found: {path}")
    files = filter_readable(list_images(path))
    if not files:
        raise DataNotFoundError(
            f"Image folder contains no readable images (jpg, png, webp, bmp, tif): {path}"
        )
    return ImageList(paths=files)


def require_folder(root: str | os.PathLike) -> Path:
    """``data.root`` as a path, or DataNotFoundError (one line at start-up) when it is not a folder."""
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataNotFoundError(f"data.root not found or not a folder: {path}")
    return path


def folder_splits(
    root: str | os.PathLike,
    val_ratio: float,
    test_ratio: float,
    seed: int,
    exclude: Sequence[str] = (),
) -> dict[str, ImageList]:
    """Splits of a folder tree: ``root/{train,val,test}`` subfolders when ``root/train`` exists, else a ratio split.

    With subfolders, a missing ``test`` reuses ``val`` and a missing ``val`` is split off ``train``. Files whose
    name matches a glob of ``exclude`` (e.g. ``bsds_*``: a benchmark's test images) are in no split; they are
    taken out *after* splitting, so every other file stays in the split it has without ``exclude`` (a benchmark
    that holds out the folder's own validation split keeps holding out the same photos).
    """
    root = require_folder(root)
    if (root / "train").is_dir():
        train = image_folder(root / "train")
        if (root / "val").is_dir():
            splits = {"train": train, "val": image_folder(root / "val")}
        else:
            idx = split_indices(len(train), max(val_ratio, 0.05), 0.0, seed)
            splits = {"train": train.subset(idx["train"]), "val": train.subset(idx["val"])}
        splits["test"] = image_folder(root / "test") if (root / "test").is_dir() else splits["val"]
    else:
        splits = ratio_splits(image_folder(root), val_ratio, test_ratio, seed)
    return {name: _without(images, exclude, f"{root} ({name})") for name, images in splits.items()}


def _without(images: ImageList, exclude: Sequence[str], where: str) -> ImageList:
    """``images`` minus the files whose name matches a glob of ``exclude``; none left is a start-up error."""
    if not exclude:
        return images
    kept = [i for i, p in enumerate(images.paths) if not any(fnmatch.fnmatch(p.name, g) for g in exclude)]
    if len(kept) < len(images.paths):
        print(f"{where}: {len(images.paths) - len(kept)} images excluded by {', '.join(exclude)}")
    if not kept:
        raise DataNotFoundError(f"no image is left once {', '.join(exclude)} are excluded: {where}")
    return images.subset(kept)


def embedded_photos(tile: int = 128, max_side: int = 768, min_std: float = 12.0) -> ImageList:
    """scikit-image's real colour photos, each shrunk to ``max_side`` and cut into ``tile`` x ``tile`` crops.

    Near-uniform crops (standard deviation below ``min_std`` grey levels, e.g. the black border of the retina
    photo) are dropped: they teach nothing about filling holes.
    """
    import skimage

    folder = Path(skimage.data.__file__).parent
    arrays, names = [], []
    for fname in EMBEDDED_PHOTOS:
        img = shrink(read_image(folder / fname), max_side)
        h, w = img.shape[:2]
        for top in range(0, h - tile + 1, tile):
            for left in range(0, w - tile + 1, tile):
                crop = img[top : top + tile, left : left + tile]
                if crop.std() >= min_std:
                    arrays.append(np.ascontiguousarray(crop))
                    names.append(f"{Path(fname).stem}@{top},{left}")
    return ImageList(arrays=arrays, names=names)


#: The embedded photos that are scenes (a person, a cat, a cup, a motorcycle, a rocket). Validation and test
#: tiles come only from these, interleaved photo by photo, so the metrics and the first panels show the kind of
#: picture users inpaint, not star fields or microscopy (those stay in training as texture).
EMBEDDED_SCENES: tuple[str, ...] = ("astronaut", "chelsea", "coffee", "motorcycle_left", "rocket")


def embedded_splits(tile: int, val_ratio: float, test_ratio: float, seed: int) -> dict[str, ImageList]:
    """Train/val/test tiles of the embedded photos; val/test are scene tiles, photo after photo (seeded).

    The sizes follow the ratios of the whole tile count, as :func:`split_indices`, capped at a quarter of the scene
    tiles each; with ``test_ratio = 0`` the test split reuses validation.
    """
    images = embedded_photos(tile=tile)
    n = len(images)
    sizes = split_indices(n, val_ratio, test_ratio, seed)  # only for the validated split sizes
    n_val, n_test = len(sizes["val"]), len(sizes["test"])
    rng = np.random.default_rng(seed)
    per_photo = [
        [i for i, name in enumerate(images.names) if name.split("@")[0] == scene] for scene in EMBEDDED_SCENES
    ]
    queues = [[tiles[j] for j in rng.permutation(len(tiles))] for tiles in per_photo]
    interleaved = [q[k] for k in range(max(map(len, queues))) for q in queues if k < len(q)]
    cap = max(1, len(interleaved) // 4)  # large tiles leave few scene tiles: keep most of them for training
    n_val, n_test = min(n_val, cap), min(n_test, cap)
    val, test = interleaved[:n_val], interleaved[n_val : n_val + n_test]
    held = set(val) | set(test)
    return {
        "train": images.subset([i for i in range(n) if i not in held]),
        "val": images.subset(val),
        "test": images.subset(test or val),
    }
