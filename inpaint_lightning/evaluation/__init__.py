"""Evaluation protocol: per-image metrics, hole-ratio buckets, FID/KID, classical baselines and reports."""

from inpaint_lightning.evaluation.distribution import DistributionMetrics, inception_features
from inpaint_lightning.evaluation.metrics import PerImageLPIPS, bucket_of, hole_ratio, psnr, region_l1, ssim
from inpaint_lightning.evaluation.scorer import Record, Scorer
from inpaint_lightning.models.classical import BASELINES, baseline

__all__ = [
    "BASELINES",
    "DistributionMetrics",
    "PerImageLPIPS",
    "Record",
    "Scorer",
    "baseline",
    "bucket_of",
    "hole_ratio",
    "inception_features",
    "region_l1",
    "psnr",
    "ssim",
]
