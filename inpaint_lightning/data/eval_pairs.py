"""Evaluation samples: paired image/mask files (optionally a prediction file), at native size or a fixed crop."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from inpaint_lightning import notices
from inpaint_lightning.data.folder_pairs import pair_tensors
from inpaint_lightning.data.io import IMAGE_EXTENSIONS, UnreadableImageError, read_image
from inpaint_lightning.data.pairs import Pair


def resize_center_crop(image: np.ndarray, size: int) -> np.ndarray:
    """Scale the short side to ``size`` (area filter when shrinking) and take the central ``size x size``."""
    h, w = image.shape[:2]
    scale = size / min(h, w)
    if scale != 1:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(
            image, (max(size, round(w * scale)), max(size, round(h * scale))), interpolation=interp
        )
    h, w = image.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return image[top : top + size, left : left + size]


MIN_SIDE = 16
"""Smallest image side scored: SSIM's 11-pixel Gaussian window needs room (a 1 x 1 image would abort the run)."""


def find_prediction(folder: Path, name: str) -> Path | None:
    """``folder/<name>.<any image extension>``, PNG first."""
    for ext in (".png", *IMAGE_EXTENSIONS):
        path = folder / f"{name}{ext}"
        if path.is_file():
            return path
    return None


class EvalPairs(Dataset):
    """``{"target", "mask", "input", "name"[, "prediction"]}`` tensors per pair; unreadable files give None.

    Args:
        size: None keeps native resolution (masks are resized to the image); N crops images to N x N
            (short side scaled to N, centre crop) and resizes masks to N x N.
        invert: masks with black holes.
        predictions: folder of outputs named ``<pair name>.<ext>`` to score instead of running a model.
    """

    def __init__(
        self,
        pairs: list[Pair],
        size: int | None = None,
        invert: bool = False,
        predictions: Path | None = None,
    ) -> None:
        self.pairs, self.size, self.invert, self.predictions = pairs, size, invert, predictions

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> dict | None:
        pair = self.pairs[i]
        try:
            image = read_image(pair.image)
            if self.size is not None:
                image = resize_center_crop(image, self.size)
            h, w = image.shape[:2]
            if min(h, w) < MIN_SIDE:
                notices.warn(f"skipping {pair.name}: {w} x {h} is too small to score (under {MIN_SIDE} px)")
                return None
            sample = {"name": pair.name, **pair_tensors(image, pair.mask, self.invert, any_size=True)}
            if not bool(sample["mask"].any()):  # nothing to fill: PSNR would be infinite, hole metrics empty
                notices.warn(f"skipping {pair.name}: its mask has no hole at this size, nothing to score")
                return None
            if self.predictions is not None:
                path = find_prediction(self.predictions, pair.name)
                if path is None:
                    notices.warn(f"no prediction for {pair.name} in {self.predictions}: skipped")
                    return None
                pred = read_image(path)
                if pred.shape[:2] != (h, w):
                    if self.size is not None and min(pred.shape[:2]) >= self.size:
                        pred = resize_center_crop(pred, self.size)
                    if pred.shape[:2] != (h, w):
                        notices.warn(
                            f"{path.name} is {pred.shape[1]}x{pred.shape[0]}, ground truth {w}x{h}: resized"
                        )
                        pred = cv2.resize(pred, (w, h), interpolation=cv2.INTER_AREA)
                sample["prediction"] = torch.from_numpy(pred).permute(2, 0, 1).float() / 255.0
        except UnreadableImageError as err:
            notices.warn(f"skipping unreadable file: {err}")
            return None
        return sample


def collate(samples: list[dict | None]) -> dict | None:
    """Stack the readable samples of a batch (None when none is)."""
    samples = [s for s in samples if s is not None]
    if not samples:
        return None
    out: dict = {"name": [s["name"] for s in samples]}
    for key in ("target", "mask", "input", "prediction"):
        if key in samples[0]:
            out[key] = torch.stack([s[key] for s in samples])
    return out
