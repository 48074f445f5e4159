"""Accumulate per-image scores over a run; summarise overall and per bucket; keep best/worst examples.

The same object serves ``python -m inpaint_lightning evaluate`` and the LightningModule's ``test`` loop, so a
checkpoint, a classical baseline and a folder of someone else's predictions are scored by identical code.
Inpainting buckets images by hole ratio (10 % bins) and adds L1 in the hole; restoration buckets them by
degradation (level) and adds PSNR/SSIM on Y with a border crop (the super-resolution papers' convention).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from inpaint_lightning.evaluation import metrics as M
from inpaint_lightning.evaluation.distribution import DistributionMetrics

#: Per-image fields averaged in summaries, in table order (those a task does not score are left out).
METRIC_FIELDS = ("psnr", "ssim", "psnr_y", "ssim_y", "lpips", "l1_hole")


@dataclass
class Record:
    """One scored image (``hole_ratio``/``l1_hole`` for inpainting, ``psnr_y``/``ssim_y`` for restoration)."""

    name: str
    bucket: str
    psnr: float
    ssim: float
    lpips: float | None = None
    hole_ratio: float | None = None
    l1_hole: float | None = None
    psnr_y: float | None = None
    ssim_y: float | None = None


@dataclass(order=True)
class Example:
    """A kept example for the visual report: input | output | ground truth (uint8 HxWx3 each, same size)."""

    key: float
    name: str = field(compare=False)
    score: float = field(compare=False)
    masked: np.ndarray = field(compare=False, repr=False)
    output: np.ndarray = field(compare=False, repr=False)
    target: np.ndarray = field(compare=False, repr=False)


def _to_uint8(x: Tensor, max_side: int) -> np.ndarray:
    """``3 x H x W`` in [0, 1] -> ``H x W x 3`` uint8, downscaled so the longer side is at most ``max_side``."""
    h, w = x.shape[-2:]
    scale = max_side / max(h, w)
    if scale < 1:
        x = torch.nn.functional.interpolate(
            x[None].float(), size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area"
        )[0]
    return (x.float().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()


class Scorer:
    """Per-image PSNR/SSIM/LPIPS (+ L1 in the hole, or + PSNR/SSIM on Y), optional FID/KID, per bucket.

    Args:
        lpips: LPIPS backbone (``alex``, ``vgg``) or ``off``.
        distribution: FID/KID accumulator, or None.
        keep: how many best and worst examples (by LPIPS, by PSNR without it) to keep for the visual report.
        thumbnail: longer side of kept examples, to bound memory on large sets.
    """

    def __init__(
        self,
        lpips: Literal["alex", "vgg", "off"] = "alex",
        distribution: DistributionMetrics | None = None,
        keep: int = 8,
        bucket_width: float = 0.1,
        thumbnail: int = 384,
    ) -> None:
        self.lpips = M.PerImageLPIPS(lpips) if lpips != "off" else None
        self.lpips_net = lpips
        self.distribution = distribution
        self.keep, self.bucket_width, self.thumbnail = keep, bucket_width, thumbnail
        self.records: list[Record] = []
        self._best: list[Example] = []  # heap keyed on -badness: holds the `keep` best
        self._worst: list[Example] = []  # heap keyed on badness: holds the `keep` worst

    def to(self, device: torch.device | str) -> Scorer:
        if self.lpips is not None:
            self.lpips.to(device)
        if self.distribution is not None:
            self.distribution.to(device)
        return self

    @torch.no_grad()
    def update(
        self,
        output: Tensor,
        target: Tensor,
        mask: Tensor | None,
        names: list[str],
        masked: Tensor | None = None,
        buckets: list[str] | None = None,
        y_border: int | None = None,
        scores: dict[str, Tensor] | None = None,
    ) -> list[Record]:
        """Score a batch of outputs against ground truth; returns its records.

        Args:
            mask: inpainting's holes (outputs composited); None for restoration (no hole metrics).
            masked: the input to show in the report (the degraded image; up-scaled if smaller).
            buckets: each image's bucket label; default: its hole-ratio bin (inpainting) or ``all``.
            y_border: also PSNR/SSIM on Y with this border cropped (restoration: the scale).
            scores: per-image ``psnr``/``ssim`` already computed for these outputs (validation's), reused.
        """
        output, target = output.float().clamp(0, 1), target.float()
        if scores is not None and "psnr" in scores and "ssim" in scores:
            psnr, ssim = scores["psnr"], scores["ssim"]
        else:
            psnr, ssim = M.psnr(output, target), M.ssim(output, target)
        lp = self.lpips(output, target) if self.lpips is not None else None
        l1 = ratio = psnr_y = ssim_y = None
        if mask is not None:
            mask = mask.float()
            l1, ratio = M.region_l1(output, target, mask), M.hole_ratio(mask)
        if y_border is not None:
            psnr_y, ssim_y = M.psnr_y(output, target, y_border), M.ssim_y(output, target, y_border)
        if self.distribution is not None:
            self.distribution.update(output, target)
        batch: list[Record] = []
        for i, name in enumerate(names):
            if buckets is not None:
                bucket = buckets[i]
            else:
                bucket = M.bucket_of(float(ratio[i]), self.bucket_width) if ratio is not None else "all"
            record = Record(
                name=name, bucket=bucket, psnr=float(psnr[i]), ssim=float(ssim[i]),
                lpips=None if lp is None else float(lp[i]),
                hole_ratio=None if ratio is None else float(ratio[i]),
                l1_hole=None if l1 is None else float(l1[i]),
                psnr_y=None if psnr_y is None else float(psnr_y[i]),
                ssim_y=None if ssim_y is None else float(ssim_y[i]),
            )  # fmt: skip
            batch.append(record)
            if self.keep > 0:
                if masked is not None:
                    shown = masked[i].float()
                    if shown.shape[-2:] != target.shape[-2:]:  # super-resolution: pixels repeated, as given
                        shown = torch.nn.functional.interpolate(shown[None], size=target.shape[-2:])[0]
                else:
                    shown = target[i] * (1 - mask[i]) if mask is not None else target[i]
                self._keep(record, shown, output[i], target[i])
        self.records.extend(batch)
        return batch

    def _keep(self, record: Record, masked: Tensor, output: Tensor, target: Tensor) -> None:
        badness = record.lpips if record.lpips is not None else -record.psnr
        score = record.lpips if record.lpips is not None else record.psnr
        for heap, key in ((self._best, -badness), (self._worst, badness)):
            if len(heap) < self.keep or key > heap[0].key:
                example = Example(
                    key, record.name, score, _to_uint8(masked, self.thumbnail),
                    _to_uint8(output, self.thumbnail), _to_uint8(target, self.thumbnail),
                )  # fmt: skip
                (heapq.heappush if len(heap) < self.keep else heapq.heapreplace)(heap, example)

    def best(self) -> list[Example]:
        """Kept best examples, best first."""
        return sorted(self._best, key=lambda e: -e.key)

    def worst(self) -> list[Example]:
        """Kept worst examples, worst first."""
        return sorted(self._worst, key=lambda e: -e.key)

    def summary(self) -> dict:
        """``{"overall": {count, [hole_ratio,] psnr, ssim, ...[, fid, kid, kid_std]}, "buckets": {label: {...}}}``."""
        overall = _mean(self.records)
        if self.distribution is not None:
            overall.update(self.distribution.compute())
        buckets: dict[str, dict] = {}
        for label in dict.fromkeys(sorted(r.bucket for r in self.records)):
            buckets[label] = _mean([r for r in self.records if r.bucket == label])
        return {"overall": overall, "buckets": buckets}

    def gather(self) -> None:
        """Under DDP, replace this process's records by every process's (sorted by name); a no-op otherwise."""
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered: list = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, self.records)
            self.records = sorted((r for part in gathered for r in part), key=lambda r: r.name)

    def rows(self) -> list[dict]:
        """Per-image records as dicts (for CSV)."""
        return [{k: v for k, v in asdict(r).items() if v is not None} for r in self.records]


def _mean(records: list[Record]) -> dict:
    out: dict = {"count": len(records)}
    if not records:
        return out
    ratios = [r.hole_ratio for r in records if r.hole_ratio is not None]
    if ratios:
        out["hole_ratio"] = float(np.mean(ratios))
    for name in METRIC_FIELDS:
        values = [getattr(r, name) for r in records if getattr(r, name) is not None]
        if values:
            out[name] = float(np.mean(values))
            assert math.isfinite(out[name]), f"non-finite mean {name}"
    return out
