"""Score a damage detector on held-out photos, per kind of damage, beside the classical top-hat detector.

    python benchmarks/damage_check.py --checkpoint CK [--sizes 256 512] [--out logs/damage/check]

The held-out photos are the 66 of ``../shared/data/photos`` that training never sees (the data module's fixed
``val_ratio 0.25`` split). Each is centre-cropped to each size and damaged with a fixed seed, once per kind
(scratches, cracks, dust, tears, stains) and once with the training mix; IoU/F1/precision/recall are pooled over
the photos (``inpaint_lightning.evaluation.segmentation``). The detector runs as users run it
(:class:`~inpaint_lightning.inference.DamageDetector`: working side 512, no growing, so the scores are of its
raw mask). Writes ``check.md`` and ``grid_<size>.png`` (damaged | true damage | detector | top-hat).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from _common import ROOT

from inpaint_lightning.captions import caption_strip
from inpaint_lightning.data.damage import KINDS, Damage
from inpaint_lightning.data.eval_sets import resize_center_crop
from inpaint_lightning.data.io import read_image
from inpaint_lightning.data.sources import folder_splits
from inpaint_lightning.evaluation.segmentation import confusion, scores, tophat_detector
from inpaint_lightning.inference import DamageDetector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="damage detector checkpoint or export")
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "data" / "photos")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "damage" / "check")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photos = folder_splits(args.photos, 0.25, 0.0, 0)["val"].paths
    detector = DamageDetector.from_file(args.checkpoint, dilate=0)
    cases = {**{kind: Damage({kind: 1.0}, per_image=(1, 2)) for kind in KINDS}, "mix (training)": Damage()}
    lines = [f"# Damage detector on {len(photos)} held-out photos", "", f"`{args.checkpoint}`", ""]
    for size in args.sizes:
        lines += [f"## {size} px", "", "| damage | detector IoU | F1 | precision | recall | top-hat IoU | F1 |",
                  "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        shown = []
        for case, damage in cases.items():
            counts = {"model": np.zeros(3), "tophat": np.zeros(3)}
            for i, path in enumerate(photos):
                photo = resize_center_crop(read_image(path), size).astype(np.float32) / 255.0
                damaged, truth = damage(photo, np.random.default_rng(1000 + i))
                pixels = (damaged * 255 + 0.5).astype(np.uint8)
                found = detector(pixels).astype(np.float32) / 255.0
                classical = tophat_detector(pixels)
                for name, pred in (("model", found), ("tophat", classical)):
                    tp, fp, fn = confusion(torch.from_numpy(pred)[None], torch.from_numpy(truth)[None])
                    counts[name] += [float(tp), float(fp), float(fn)]
                if case.startswith("mix") and i < 6:
                    shown.append([pixels, *(np.repeat((m * 255).astype(np.uint8)[..., None], 3, -1)
                                            for m in (truth, found, classical))])  # fmt: skip
            s = {
                n: {k: float(v) for k, v in scores(*map(torch.tensor, c)).items()} for n, c in counts.items()
            }
            m, t = s["model"], s["tophat"]
            lines.append(f"| {case} | {m['iou']:.3f} | {m['f1']:.3f} | {m['precision']:.3f} | {m['recall']:.3f} "
                         f"| {t['iou']:.3f} | {t['f1']:.3f} |")  # fmt: skip
            (args.out / "check.md").write_text("\n".join(lines) + "\n")
        gap = np.full((size, 4, 3), 255, np.uint8)
        rows = [np.hstack([t if j == 0 else np.hstack([gap, t]) for j, t in enumerate(row)]) for row in shown]
        labels = ["damaged", "true damage", "detector", "top-hat"]
        grid = np.vstack([caption_strip(labels, size, 4), *rows])
        cv2.imwrite(str(args.out / f"grid_{size}.png"), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
        lines += ["", f"![grid](grid_{size}.png)", ""]
        (args.out / "check.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
