"""KID to the reference look in per-photo Lab colour statistics (issue 30's proposed measure; a first check).

    python benchmarks/enhance_lab_kid.py --out logs/enhance_u128ms [--size 256]

Reads what ``benchmarks/enhance_check.py --arms unpaired`` left in ``--out``: ``liked/`` (the references),
``eval_photos/`` (the held-out originals) and ``eval/dull/<method>/outputs``. Each photo becomes 15 numbers: the
mean, spread and 5/50/95th percentiles of L, a and b (OpenCV's Lab), each standardised by the references' spread
(KID's polynomial kernel is scale-sensitive). Prints KID of the originals with one edit each (what the measure
sees; :data:`enhance_check.SENSITIVITY`), of every method, and the unpaired model minus each classical correction
with a paired interval (:func:`~inpaint_lightning.evaluation.stats.kid_difference`). AlexNet KID, the issue's
measure, sees local contrast and almost nothing of colour or tone (``enhance_check.py --kid-sensitivity``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from enhance_check import BASELINES, SENSITIVITY

from inpaint_lightning.data import edits
from inpaint_lightning.data.eval_sets import resize_center_crop
from inpaint_lightning.data.io import read_image
from inpaint_lightning.evaluation.stats import kid_difference


def statistics(image: np.ndarray) -> np.ndarray:
    """Mean, spread and 5/50/95th percentiles of L, a, b of an RGB float image in [0, 1]."""
    lab = cv2.cvtColor(np.clip(image, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB).reshape(-1, 3)
    return np.concatenate([lab.mean(0), lab.std(0), *np.percentile(lab, [5, 50, 95], axis=0)])


def load(folder: Path, size: int) -> list[np.ndarray]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    return [np.asarray(resize_center_crop(read_image(p), size)).astype(np.float32) / 255 for p in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="an enhance_check.py output folder")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    liked = np.stack([statistics(i) for i in load(args.out / "liked", args.size)])
    mu, sd = liked.mean(0), liked.std(0) + 1e-6
    real = (liked - mu) / sd

    def embed(images: list[np.ndarray]) -> np.ndarray:
        return (np.stack([statistics(i) for i in images]) - mu) / sd

    photos = load(args.out / "eval_photos", args.size)
    originals = embed(photos)
    print("| photos | KID | minus the originals [95 %] |\n|---|---:|---:|")
    for name, (edit, amount) in SENSITIVITY.items():
        edited = embed([edits.apply_edit(p, edit, amount) for p in photos])
        k, k_orig, d, lo, hi = kid_difference(real, edited, originals)
        print(f"| {name} | {k:.3f} | {d:+.3f} [{lo:+.3f}, {hi:+.3f}] |")
    print(f"| the originals | {k_orig:.3f} | |")
    outputs = {
        m: embed(load(args.out / "eval" / "dull" / m / "outputs", args.size))
        for m in ("unpaired", *BASELINES)
    }
    print("\n| method | KID | unpaired minus method [95 %] |\n|---|---:|---:|")
    for m in BASELINES:
        k_ours, k, d, lo, hi = kid_difference(real, outputs["unpaired"], outputs[m])
        print(f"| {m} | {k:.3f} | {d:+.3f} [{lo:+.3f}, {hi:+.3f}] |")
    print(f"| unpaired | {k_ours:.3f} | |")


if __name__ == "__main__":
    main()
