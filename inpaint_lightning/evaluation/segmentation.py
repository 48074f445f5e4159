"""Scoring the damage detector: IoU, F1, precision and recall of a thresholded probability map against the true
damage mask, and the classical detector it must beat (morphological top-hat, the textbook scratch/dust finder).

Counts are pooled over the whole set (micro averages, as segmentation benchmarks report), so a photo with three
damaged pixels cannot swing the score; :meth:`SegmentationMetrics.update` also returns per-image values.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

#: A probability above this is called damage.
THRESHOLD = 0.5


def confusion(prob: Tensor, target: Tensor, threshold: float = THRESHOLD) -> tuple[Tensor, Tensor, Tensor]:
    """Per-image true positives, false positives and false negatives (``B`` each) of ``prob > threshold``."""
    pred = prob.float().flatten(1) > threshold
    truth = target.float().flatten(1) > 0.5
    tp = (pred & truth).sum(1).float()
    return tp, (pred & ~truth).sum(1).float(), (~pred & truth).sum(1).float()


def scores(tp: Tensor, fp: Tensor, fn: Tensor) -> dict[str, Tensor]:
    """IoU, F1 (= Dice), precision and recall from counts; 1 where nothing was to be found and nothing was found."""

    def ratio(num: Tensor, den: Tensor) -> Tensor:
        return torch.where(den > 0, num / den.clamp_min(1), torch.ones_like(num))

    return {
        "iou": ratio(tp, tp + fp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
    }


class _Counts(Metric):
    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        for name in ("tp", "fp", "fn"):
            self.add_state(name, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, tp: Tensor, fp: Tensor, fn: Tensor) -> None:
        self.tp += tp.sum().double()
        self.fp += fp.sum().double()
        self.fn += fn.sum().double()

    def compute(self) -> dict[str, Tensor]:
        return {k: v.float() for k, v in scores(self.tp, self.fp, self.fn).items()}


class SegmentationMetrics:
    """IoU/F1/precision/recall over an epoch, with :class:`~inpaint_lightning.evaluation.metrics.ImageMetrics`'
    interface (``update`` returns per-image values; ``compute``, ``reset``, ``to``)."""

    def __init__(self, prefix: str, threshold: float = THRESHOLD) -> None:
        self.prefix, self.threshold, self.counts = prefix, threshold, _Counts()

    def update(self, output: Tensor, target: Tensor) -> dict[str, Tensor]:
        tp, fp, fn = confusion(output, target, self.threshold)
        self.counts.update(tp, fp, fn)
        return scores(tp, fp, fn)

    def compute(self) -> dict[str, Tensor]:
        return {f"{self.prefix}{k}": v for k, v in self.counts.compute().items()}

    def reset(self) -> None:
        self.counts.reset()

    def to(self, device: torch.device | str) -> SegmentationMetrics:
        self.counts.to(device)
        return self


#: Structuring element of :func:`tophat_detector` as a fraction of the short side (thin damage is narrower).
TOPHAT_SIZE = 0.03
#: Response threshold of :func:`tophat_detector`: this many robust standard deviations above the median.
TOPHAT_K = 4.0
#: ... and at least this many grey levels (of 255): shading and grain are not damage.
TOPHAT_MIN_CONTRAST = 12.0


def tophat_detector(image: np.ndarray) -> np.ndarray:
    """Classical damage detector: white and black top-hat of the grey image (thin bright/dark structures smaller
    than the structuring element: scratches, dust, cracks), thresholded at ``median + TOPHAT_K * 1.4826 MAD`` (at least ``TOPHAT_MIN_CONTRAST``).
    ``H x W x 3`` uint8 -> ``H x W`` float32 mask. Large damage (tears, stains) is beyond what it can see."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    size = max(3, int(round(min(grey.shape) * TOPHAT_SIZE)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    response = np.maximum(
        cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel, borderType=cv2.BORDER_REFLECT),
        cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel, borderType=cv2.BORDER_REFLECT),
    )
    median = float(np.median(response))
    spread = 1.4826 * float(np.median(np.abs(response - median)))
    return (response > max(median + TOPHAT_K * spread, TOPHAT_MIN_CONTRAST)).astype(np.float32)


DETECTORS = {"tophat": tophat_detector}
