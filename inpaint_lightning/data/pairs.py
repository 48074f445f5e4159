"""Pair a folder of images with a folder of masks, the same way for evaluation, folder inference and predict.

Rules, in order (documented in the README):

1. **By name.** A mask belongs to an image when its stem is the image's stem (``photo.jpg`` + ``photo.png``) or
   LaMa's ``<stem>_mask*`` (``photo_mask.png``, ``photo_mask000.png``, ``photo_mask001.png``: one output per
   mask). Images and masks may share one folder; files named ``*_mask*`` are then masks, not images.
2. **Stable assignment.** When no mask name matches any image (a generic mask set, e.g. irregular masks), image
   ``i`` of the sorted list gets mask ``order[i % M]``, where ``order`` is the sorted masks, or a permutation of
   them fixed by ``seed`` (sets sorted by hole size would otherwise give the first images only small holes).
   Same folders and seed, same pairs, on every machine.

Images without a mask under rule 1 are reported, not silently dropped.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inpaint_lightning.data.io import filter_readable, list_images
from inpaint_lightning.errors import DataNotFoundError

_LAMA_MASK = re.compile(r"^(?P<stem>.+)_mask[^/]*$")


@dataclass(frozen=True)
class Pair:
    """An image, its mask, and the name (stem) its output and per-image results are stored under."""

    image: Path
    mask: Path
    name: str


def _is_mask_name(path: Path) -> bool:
    return _LAMA_MASK.match(path.stem) is not None


def pair_folders(
    images: str | Path, masks: str | Path | None = None, seed: int | None = 0, strict: bool = False
) -> list[Pair]:
    """Pairs for ``images`` and ``masks`` (``None``: masks are the ``*_mask*`` files inside ``images``).

    Args:
        seed: permutation of the masks under stable assignment (rule 2); None keeps their sorted order.
        strict: raise instead of warning when some images have no mask under rule 1.

    Raises:
        DataNotFoundError: a folder is missing or empty, or nothing can be paired.
    """
    image_dir = Path(images).expanduser()
    mask_dir = Path(masks).expanduser() if masks is not None else image_dir
    for what, folder in (("image", image_dir), ("mask", mask_dir)):
        if not folder.is_dir():
            raise DataNotFoundError(f"{what} folder not found: {folder}")
    same_folder = image_dir.resolve() == mask_dir.resolve()
    image_files = [p for p in list_images(image_dir) if not (same_folder and _is_mask_name(p))]
    mask_files = list_images(mask_dir)
    if same_folder:
        mask_files = [p for p in mask_files if _is_mask_name(p)]
    image_files = filter_readable(image_files, kind="image")
    mask_files = filter_readable(mask_files, kind="mask")
    if not image_files:
        raise DataNotFoundError(f"no readable images in {image_dir}")
    if not mask_files:
        where = f"{mask_dir} (files named <stem>_mask*.png)" if same_folder else str(mask_dir)
        raise DataNotFoundError(f"no readable masks in {where}")

    by_stem: dict[str, list[Path]] = {}
    for m in mask_files:
        match = _LAMA_MASK.match(m.stem)
        by_stem.setdefault(match["stem"] if match else m.stem, []).append(m)
        if match:  # "a_mask.png" may also be a plain same-stem mask of an image called "a_mask"
            by_stem.setdefault(m.stem, []).append(m)

    pairs: list[Pair] = []
    missing: list[str] = []
    for img in image_files:
        found = sorted(set(by_stem.get(img.stem, [])))
        if len(found) == 1:
            pairs.append(Pair(img, found[0], img.stem))
        elif found:  # LaMa's several masks per image: one output per mask, named after the mask
            pairs.extend(Pair(img, m, m.stem) for m in found)
        else:
            missing.append(img.name)
    if not pairs:  # rule 2: a generic mask set
        order = list(mask_files)
        if seed is not None:
            order = [order[i] for i in np.random.default_rng(seed).permutation(len(order))]
        if len(order) < len(image_files):
            warnings.warn(
                f"{len(image_files)} images but only {len(order)} masks in {mask_dir}: masks are reused "
                f"cyclically",
                stacklevel=2,
            )
        return [Pair(img, order[i % len(order)], img.stem) for i, img in enumerate(image_files)]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        message = f"{len(missing)} image(s) in {image_dir} have no mask in {mask_dir}: {shown}"
        if strict:
            raise DataNotFoundError(message)
        warnings.warn(message + " (skipped)", stacklevel=2)
    return pairs
