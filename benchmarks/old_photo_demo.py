"""Old-photo repair, end to end on a held-out photo: age it (faded, grainy, scratched, dusty, stained), repair it
with a restoration model and an inpainting model, and save the comparison side by side.

    python benchmarks/old_photo_demo.py --restore CK --inpaint CK [--detect CK] [--photo P] [--out logs/old_photo.png]

The damage is drawn with :class:`inpaint_lightning.data.damage.Damage` and a fixed seed, so its true mask is what a
user would paint. With ``--detect`` (a damage detector, ``configs/tasks/damage.yaml``) the row shows the detector's
mask beside the true one and the repair from each; without it, the two orders of the chain.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from _common import ROOT

from inpaint_lightning.captions import caption_strip
from inpaint_lightning.data.damage import Damage
from inpaint_lightning.data.eval_sets import resize_center_crop
from inpaint_lightning.data.io import read_image
from inpaint_lightning.inference import DamageDetector, Inpainter, PhotoRepairer, Restorer


def age(photo: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(aged uint8 photo, damage mask uint8 0/255): faded to sepia, scratches, dust and a stain."""
    damage = Damage({"scratches": 0.4, "dust": 0.4, "stains": 0.2}, per_image=(3, 3), age=1.0)
    aged, mask = damage(photo.astype(np.float32) / 255.0, np.random.default_rng(seed))
    return (aged * 255 + 0.5).astype(np.uint8), (mask * 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--restore", required=True, help="restoration checkpoint/export")
    parser.add_argument("--inpaint", required=True, help="inpainting checkpoint/export")
    parser.add_argument(
        "--detect", help="damage detector checkpoint/export (compares its mask with the true one)"
    )
    parser.add_argument("--photo", type=Path, help="default: a held-out photo of ../shared/data/photos")
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "old_photo.png")
    args = parser.parse_args()
    if args.photo is None:
        from inpaint_lightning.data.sources import folder_splits

        args.photo = folder_splits(ROOT.parent / "shared" / "data" / "photos", 0.25, 0.0, 0)["val"].paths[5]
    photo = resize_center_crop(read_image(args.photo), args.size)
    aged, mask = age(photo)
    restorer, inpainter = Restorer.from_file(args.restore), Inpainter.from_file(args.inpaint, dilate=1)
    repaired = PhotoRepairer(restorer, inpainter)(aged, mask)
    if args.detect:
        found = DamageDetector.from_file(args.detect)(aged)
        from_found = PhotoRepairer(restorer, inpainter)(aged, found)
        grey = [np.repeat(m[..., None], 3, axis=-1) for m in (mask, found)]
        tiles = [aged, *grey, repaired, from_found, photo]
        labels = [
            "aged input",
            "true damage",
            "detected",
            "repaired (true mask)",
            "repaired (detected)",
            "original",
        ]
    else:
        restored_only = PhotoRepairer(restorer, None)(aged)
        restore_first = PhotoRepairer(restorer, inpainter, order="restore_first")(aged, mask)
        tiles = [aged, restored_only, restore_first, repaired, photo]
        labels = ["aged input", "restored only", "restore, then inpaint", "inpaint, then restore", "original"]
    gap = np.full((args.size, 4, 3), 255, np.uint8)
    row = np.hstack([t if i == 0 else np.hstack([gap, t]) for i, t in enumerate(tiles)])
    image = np.vstack([caption_strip(labels, args.size, 4), row])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out} ({args.photo.name})")


if __name__ == "__main__":
    main()
