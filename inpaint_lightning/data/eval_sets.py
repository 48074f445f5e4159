"""Evaluation samples at native size or a fixed crop, optionally with a prediction file: image/mask pairs
(inpainting), clean images degraded by fixed presets, or real lq/gt pairs (restoration)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from inpaint_lightning import notices
from inpaint_lightning.data.degradations import preset
from inpaint_lightning.data.io import IMAGE_EXTENSIONS, UnreadableImageError, read_image
from inpaint_lightning.data.lq_gt import MisalignedPairError, PathPair, align
from inpaint_lightning.data.mask_pairing import Pair
from inpaint_lightning.data.predict_sets import pair_tensors


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


def load_prediction(folder: Path, name: str, size: tuple[int, int], crop: int | None) -> torch.Tensor | None:
    """The prediction for ``name`` as a ``3 x H x W`` tensor at the ground truth's ``size`` (centre-cropped
    like it when ``crop`` is set, else resized with a warning), or None (warned) when there is none."""
    path = find_prediction(folder, name)
    if path is None:
        notices.warn(f"no prediction for {name} in {folder}: skipped")
        return None
    pred = read_image(path)
    h, w = size
    if pred.shape[:2] != (h, w):
        if crop is not None and min(pred.shape[:2]) >= crop:
            pred = resize_center_crop(pred, crop)
        if pred.shape[:2] != (h, w):
            notices.warn(f"{path.name} is {pred.shape[1]}x{pred.shape[0]}, ground truth {w}x{h}: resized")
            pred = cv2.resize(pred, (w, h), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(pred).permute(2, 0, 1).float() / 255.0


def with_prediction(
    sample: dict, folder: Path | None, name: str, size: tuple[int, int], crop: int | None
) -> dict | None:
    """``sample`` with its ``prediction`` from ``folder`` (:func:`load_prediction`), as it is without a folder,
    or None (warned) when the folder has none for it."""
    if folder is None:
        return sample
    pred = load_prediction(folder, name, size, crop)
    if pred is None:
        return None
    return {**sample, "prediction": pred}


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255.0


def _quantize(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8, as a degraded photo stored in a file is."""
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class DegradedImages(Dataset):
    """Clean images degraded by fixed presets (each image x each preset): ``{"target", "input", "name",
    "bucket" (the preset), "kernel" (the blur kernel when a single known one, else None)[, "prediction"]}``.

    Each image's degradation is seeded by ``[seed, image index, preset index]``, so the set is the same every
    run; the degraded image is rounded to 8 bits, as a stored photo is (unless the degradation is not ``stored``:
    the papers' float AWGN test). With ``size``, images are scaled and
    centre-cropped to ``size`` (rounded down to a multiple of the scale) first; else cropped to a multiple.
    Names are ``<preset>/<image name>`` (outputs are saved under a folder per preset).
    """

    def __init__(
        self,
        images: list[tuple[str, Path]],
        presets: list[str],
        size: int | None = None,
        seed: int = 0,
        predictions: Path | None = None,
    ) -> None:
        self.images, self.presets, self.size, self.seed = images, presets, size, seed
        self.degradations = [preset(name) for name in presets]
        self.predictions = predictions

    def __len__(self) -> int:
        return len(self.images) * len(self.presets)

    def __getitem__(self, i: int) -> dict | None:
        index, which = divmod(i, len(self.presets))
        name, path = self.images[index]
        degradation = self.degradations[which]
        label = f"{self.presets[which]}/{name}"
        try:
            image = read_image(path)
            s = degradation.scale
            if self.size is not None:
                image = resize_center_crop(image, self.size // s * s)
            h, w = image.shape[0] // s * s, image.shape[1] // s * s
            image = image[:h, :w]
            if min(h, w) < MIN_SIDE:
                notices.warn(f"skipping {name}: {w} x {h} is too small to score (under {MIN_SIDE} px)")
                return None
            clean = image.astype(np.float32) / 255.0
            low, kernel = degradation.degrade_with_kernel(
                clean, np.random.default_rng([self.seed, index, which])
            )
            low_tensor = (
                _tensor(_quantize(low))
                if degradation.stored
                else torch.from_numpy(low).permute(2, 0, 1).float()
            )
            sample = {
                "name": label, "bucket": self.presets[which], "kernel": kernel,
                "target": _tensor(image), "input": low_tensor,
            }  # fmt: skip
            return with_prediction(sample, self.predictions, label, (h, w), None)
        except UnreadableImageError as err:
            notices.warn(f"skipping unreadable file: {err}")
            return None


class LQPairs(Dataset):
    """Real lq/gt pairs (:func:`inpaint_lightning.data.lq_gt.pair_lq_gt`) at ``scale``: ``{"target", "input",
    "name", "bucket", "kernel" (None)[, "prediction"]}``. With ``size``, the centre ``size`` x ``size`` of the
    ground truth and the low-quality region it covers (no resizing: it would change the degradation)."""

    def __init__(
        self, pairs: list[PathPair], scale: int, size: int | None = None, predictions: Path | None = None,
        bucket: str = "lq",
    ) -> None:  # fmt: skip
        self.pairs, self.scale, self.size, self.predictions, self.bucket = (
            pairs,
            scale,
            size,
            predictions,
            bucket,
        )

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> dict | None:
        pair, s = self.pairs[i], self.scale
        try:
            lq, gt = align(read_image(pair.lq), read_image(pair.gt), s, pair.name)
            if self.size is not None:
                crop = min(self.size, *gt.shape[:2]) // s
                top, left = (lq.shape[0] - crop) // 2, (lq.shape[1] - crop) // 2
                lq = lq[top : top + crop, left : left + crop]
                gt = gt[top * s : (top + crop) * s, left * s : (left + crop) * s]
            if min(gt.shape[:2]) < MIN_SIDE:
                notices.warn(f"skipping {pair.name}: too small to score (under {MIN_SIDE} px)")
                return None
            sample = {
                "name": pair.name, "bucket": self.bucket, "kernel": None,
                "target": _tensor(gt), "input": _tensor(lq),
            }  # fmt: skip
            return with_prediction(sample, self.predictions, pair.name, gt.shape[:2], None)
        except (UnreadableImageError, MisalignedPairError) as err:
            notices.warn(f"skipping pair: {err}")
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
            return with_prediction(sample, self.predictions, pair.name, (h, w), self.size)
        except UnreadableImageError as err:
            notices.warn(f"skipping unreadable file: {err}")
            return None


def collate(samples: list[dict | None]) -> dict | None:
    """Stack the readable samples of a batch (None when none is)."""
    samples = [s for s in samples if s is not None]
    if not samples:
        return None
    out: dict = {"name": [s["name"] for s in samples]}
    for key in ("bucket", "kernel"):  # restoration: per-sample labels and blur kernels (sizes differ)
        if key in samples[0]:
            out[key] = [s[key] for s in samples]
    for key in ("target", "mask", "input", "prediction"):
        if key in samples[0]:
            out[key] = torch.stack([s[key] for s in samples])
    return out
