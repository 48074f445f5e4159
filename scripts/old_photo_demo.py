"""Old-photo repair, end to end on a held-out photo: age it (faded, noisy, scratched), repair it with a
restoration model and an inpainting model, and save ``before | repaired | original`` side by side.

    python scripts/old_photo_demo.py --restore CK --inpaint CK [--photo P] [--out logs/old_photo.png]

The ageing is drawn here with a fixed seed: a sepia fade, sensor-like grain (sigma 12), and white scratches and
specks whose mask is what a user would paint (or a damage detector would find).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from _common import ROOT

from inpaint_lightning.captions import caption_strip
from inpaint_lightning.data.eval_pairs import resize_center_crop
from inpaint_lightning.data.io import read_image
from inpaint_lightning.inference import Inpainter, PhotoRepairer, Restorer


def age(photo: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(aged uint8 photo, damage mask uint8 0/255)."""
    x = photo.astype(np.float32) / 255.0
    grey = x @ np.array([0.299, 0.587, 0.114], np.float32)
    sepia = np.stack([grey * 1.07, grey * 0.94, grey * 0.76], axis=-1)
    x = 0.55 * sepia + 0.25 * x + 0.12  # faded towards a warm grey
    x = x + rng.normal(0, 12 / 255, x.shape).astype(np.float32)
    h, w = x.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    for _ in range(6):  # long thin scratches, a little curved
        pts = np.cumsum(rng.normal(0, 1, (8, 2)) * [w / 30, h / 6], axis=0) + [rng.uniform(0, w), 0]
        cv2.polylines(mask, [pts.astype(np.int32)], False, 255, int(rng.integers(1, 4)))
    for _ in range(40):  # dust specks
        cv2.circle(mask, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(rng.integers(1, 4)), 255, -1)
    x[mask > 0] = 0.92
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8), mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--restore", required=True, help="restoration checkpoint/export")
    parser.add_argument("--inpaint", required=True, help="inpainting checkpoint/export")
    parser.add_argument("--photo", type=Path, help="default: a held-out photo of ../shared/data/photos")
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "old_photo.png")
    args = parser.parse_args()
    if args.photo is None:
        from inpaint_lightning.data.sources import folder_splits

        args.photo = folder_splits(ROOT.parent / "shared" / "data" / "photos", 0.25, 0.0, 0)["val"].paths[5]
    photo = resize_center_crop(read_image(args.photo), args.size)
    aged, mask = age(photo, np.random.default_rng(0))
    restorer, inpainter = Restorer.from_file(args.restore), Inpainter.from_file(args.inpaint, dilate=1)
    restored_only = PhotoRepairer(restorer, None)(aged)
    restore_first = PhotoRepairer(restorer, inpainter, order="restore_first")(aged, mask)
    repaired = PhotoRepairer(restorer, inpainter)(aged, mask)
    tiles = [aged, restored_only, restore_first, repaired, photo]
    gap = np.full((args.size, 4, 3), 255, np.uint8)
    row = np.hstack([t if i == 0 else np.hstack([gap, t]) for i, t in enumerate(tiles)])
    labels = ["aged input", "restored only", "restore, then inpaint", "inpaint, then restore", "original"]
    image = np.vstack([caption_strip(labels, args.size, 4), row])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out} ({args.photo.name})")


if __name__ == "__main__":
    main()
