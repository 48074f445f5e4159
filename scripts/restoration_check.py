"""Score a restoration checkpoint on held-out photos beside classical baselines, with fixed degradations.

    python scripts/restoration_check.py --checkpoint CK [--preset denoise25] [--photos DIR] [--size 256]

The held-out photos are the data module's validation split of ``--photos`` (``val_ratio`` 0.25, fixed split
seed: the photos a ``fit`` with the same settings never trained on); each is centre-cropped to ``--size`` and
degraded with the preset, seeded per image (the same pairs every run). Methods: the model (EMA generator), the
degraded input itself (bicubic up-scaling for super-resolution), and OpenCV's non-local means for denoising
presets (``h`` chosen per run as the best of a few on these very images: an optimistic baseline).
Prints a table of mean PSNR/SSIM/LPIPS (AlexNet) and writes it to ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from inpaint_lightning.checkpoint import load_generator
from inpaint_lightning.data.degradations import preset
from inpaint_lightning.data.eval_pairs import resize_center_crop
from inpaint_lightning.data.io import read_image
from inpaint_lightning.data.sources import folder_splits
from inpaint_lightning.evaluation.metrics import PerImageLPIPS, psnr, ssim

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--preset", default="denoise25")
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "data" / "photos")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--val-ratio", type=float, default=0.25)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    torch.set_grad_enabled(False)
    degradation = preset(args.preset)
    generator = load_generator(args.checkpoint)
    lpips = PerImageLPIPS("alex")
    photos = folder_splits(args.photos, args.val_ratio, 0.0, 0)["val"].paths
    nlm_hs = (5, 10, 15, 20, 25) if args.preset.startswith("denoise") else ()
    scores: dict[str, list[tuple[float, float, float]]] = {"model": [], "input": []}
    scores.update({f"nlm_h{h}": [] for h in nlm_hs})
    for i, path in enumerate(photos):
        size = args.size // degradation.scale * degradation.scale
        clean = resize_center_crop(read_image(path), size).astype(np.float32) / 255.0
        low = degradation(clean, np.random.default_rng([0, i]))
        target = torch.from_numpy(clean).permute(2, 0, 1)[None]
        low_t = torch.from_numpy(np.ascontiguousarray(low)).permute(2, 0, 1)[None].float()
        outputs = {"model": generator(low_t).clamp(0, 1)}
        outputs["input"] = (
            low_t
            if degradation.scale == 1
            else F.interpolate(low_t, size=(size, size), mode="bicubic").clamp(0, 1)
        )
        low8 = cv2.cvtColor((np.clip(low, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
        for h in nlm_hs:
            den = cv2.cvtColor(cv2.fastNlMeansDenoisingColored(low8, None, h, h, 7, 21), cv2.COLOR_BGR2RGB)
            outputs[f"nlm_h{h}"] = torch.from_numpy(den).permute(2, 0, 1)[None].float() / 255.0
        for name, out in outputs.items():
            scores[name].append(
                (
                    float(psnr(out, target)),
                    float(ssim(out, target)),
                    float(lpips(out, target)[0]),
                )
            )
        print(f"{i + 1}/{len(photos)}", flush=True)
    means = {k: np.mean(v, axis=0) for k, v in scores.items()}
    nlm = [k for k in means if k.startswith("nlm")]
    keep = ["model", "input"] + ([max(nlm, key=lambda k: means[k][0])] if nlm else [])
    lines = [
        f"{args.preset}, {len(photos)} held-out photos at {args.size} px, checkpoint {args.checkpoint}",
        "",
        "| method | PSNR | SSIM | LPIPS |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {k} | {means[k][0]:.2f} | {means[k][1]:.4f} | {means[k][2]:.4f} |" for k in keep]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
