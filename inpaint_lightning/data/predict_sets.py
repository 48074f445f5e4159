"""Full-size samples for ``predict`` (``data.predict_images``): image/mask pairs from two folders (or files) for
inpainting (:class:`FolderPairs`, with ``data.predict_masks``), or the images alone for restoration
(:class:`FolderImages`).

Pairing follows :func:`inpaint_lightning.data.mask_pairing.pair_paths` (same stem, LaMa's ``<stem>_mask*``, a stable
assignment, or single files). Images keep their size (use batch size 1 when sizes differ; the datamodule does);
a mask of another size is resized to its image with nearest neighbour. A file that fails to decode (truncated
further in than the header check of ``pair_paths`` reads) gives a warning and a small blank sample with
``skipped`` True, which :class:`inpaint_lightning.callbacks.PredictionWriter` does not write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from inpaint_lightning import notices
from inpaint_lightning.data.io import UnreadableImageError, read_image, read_mask
from inpaint_lightning.data.mask_pairing import Pair, named_images, pair_paths
from inpaint_lightning.data.masks import MaskSizeError, fit_mask

BLANK = 64  # side of the placeholder sample of an unreadable file (large enough for every generator)


def pair_tensors(
    rgb: np.ndarray, mask_path: Path, invert: bool = False, any_size: bool = False
) -> dict[str, torch.Tensor]:
    """``target`` (the image), ``mask`` (at the image's size), ``input`` (the masked image) tensors of one decoded
    image and its mask file.

    The mask is fitted by :func:`~inpaint_lightning.data.masks.fit_mask` (raises
    :class:`~inpaint_lightning.data.masks.MaskSizeError` for another aspect ratio); ``any_size`` resizes any mask
    to the image instead, as evaluation protocols do with generic mask sets that belong to no particular image.
    """
    if any_size:
        hole = read_mask(mask_path, size=rgb.shape[:2], invert=invert)
    else:
        hole = fit_mask(read_mask(mask_path, invert=invert), rgb.shape[:2])
    image = torch.from_numpy(rgb).permute(2, 0, 1).float() / 255.0
    mask = torch.from_numpy(hole)[None]
    return {"target": image, "mask": mask, "input": image * (1 - mask)}


class FolderPairs(Dataset):
    """Samples ``target`` (3 x H x W in [0, 1]), ``mask`` (1 x H x W, 1 = hole), ``input``, ``index``, ``name``,
    ``skipped``.

    Args:
        images: folder of images (recursive), or one image file.
        masks: folder of masks, or one mask file (None: ``<stem>_mask*`` files inside ``images``).
        invert_mask: masks mark holes in black.
        seed: mask order under stable assignment.
    """

    def __init__(
        self, images: str | Path, masks: str | Path | None = None, invert_mask: bool = False, seed: int = 0
    ) -> None:
        self.pairs: list[Pair] = pair_paths(images, masks, seed=seed)
        self.invert_mask = invert_mask

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        pair = self.pairs[index]
        try:
            tensors = pair_tensors(read_image(pair.image), pair.mask, self.invert_mask)
        except (UnreadableImageError, OSError, MaskSizeError) as err:
            notices.warn(f"skipping {pair.name}: {err}")
            image, mask = torch.zeros(3, BLANK, BLANK), torch.zeros(1, BLANK, BLANK)
            return {
                "target": image,
                "mask": mask,
                "input": image,
                "index": index,
                "name": pair.name,
                "skipped": True,
            }
        return {**tensors, "index": index, "name": pair.name, "skipped": False}


class FolderImages(Dataset):
    """Restoration's predict samples: ``input`` (3 x H x W in [0, 1], the photo to restore, full size), ``index``,
    ``name`` (the image's stem with its sub-folder, unique as ``restore``'s), ``skipped`` (unreadable: warned,
    not written).

    Args:
        images: folder of images (recursive), or one image file.
    """

    def __init__(self, images: str | Path) -> None:
        self.items = named_images(images)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        name, path = self.items[index]
        try:
            image = torch.from_numpy(read_image(path)).permute(2, 0, 1).float() / 255.0
            skipped = False
        except (UnreadableImageError, OSError) as err:
            notices.warn(f"skipping {name}: {err}")
            image, skipped = torch.zeros(3, BLANK, BLANK), True
        return {"input": image, "index": index, "name": name, "skipped": skipped}
