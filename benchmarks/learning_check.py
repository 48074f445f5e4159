"""Learning check: train the default config briefly on CPU and show that validation metrics improve.

Prints validation PSNR / SSIM / LPIPS of the untrained model, of the trained model, of the masked input itself
(hole left black) and of OpenCV's Telea inpainting, all on the same fixed validation pairs. Exits 1 when the
trained model is not clearly better than the untrained one.

    python benchmarks/learning_check.py [--steps 300] [--image-size 64] [extra CLI flags ...]
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np
import torch
from _common import build_cli

from inpaint_lightning.evaluation.metrics import image_metrics
from inpaint_lightning.pretrained import make_lpips


def baselines(datamodule) -> dict[str, dict[str, float]]:
    """Metrics of the masked input and of cv2.inpaint (Telea, radius 3) on the validation pairs."""
    lpips = make_lpips("alex")
    scores = {"masked input": image_metrics("", lpips), "opencv telea": image_metrics("", lpips.clone())}
    for batch in datamodule.val_dataloader():
        image, mask, masked = batch["target"], batch["mask"], batch["input"]
        scores["masked input"].update(masked, image)
        telea = []
        for x, m in zip(masked, mask, strict=True):
            rgb = (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            filled = cv2.inpaint(rgb, (m[0].numpy() * 255).astype(np.uint8), 3, cv2.INPAINT_TELEA)
            telea.append(torch.from_numpy(filled).permute(2, 0, 1).float() / 255)
        scores["opencv telea"].update(torch.stack(telea), image)
    return {name: {k: float(v) for k, v in m.compute().items()} for name, m in scores.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--config", default="configs/gan.yaml")
    args, extra = parser.parse_known_args()
    cli = build_cli(
        args.config, args.image_size, args.steps,
        "--trainer.val_check_interval", str(max(args.steps // 3, 1)),
        "--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
        "--trainer.logger.init_args.save_dir", "logs/learning_check",
        "--checkpoint.dirpath", "logs/learning_check/checkpoints",
        *extra,
    )  # fmt: skip
    trainer, model, dm = cli.trainer, cli.model, cli.datamodule
    start = trainer.validate(model, dm, verbose=False)[0]
    t0 = time.perf_counter()
    trainer.fit(model, dm)
    seconds = time.perf_counter() - t0
    end = trainer.validate(model, dm, verbose=False)[0]
    rows = {
        "model, start": {k[4:]: v for k, v in start.items()},
        f"model, {args.steps} steps": {k[4:]: v for k, v in end.items()},
        **baselines(dm),
    }
    n_val = len(dm.datasets["val"])
    print(
        f"\nLearning check: {args.config}, {args.steps} steps at {args.image_size} px on {n_val} val pairs, "
        f"{seconds:.0f} s of training ({args.steps / seconds:.2f} steps/s incl. validation)"
    )
    print(f"{'':24s} {'PSNR':>8s} {'SSIM':>8s} {'LPIPS':>8s}")
    for name, m in rows.items():
        print(f"{name:24s} {m['psnr']:8.2f} {m['ssim']:8.4f} {m['lpips']:8.4f}")
    s, e = rows["model, start"], rows[f"model, {args.steps} steps"]
    improved = e["psnr"] > s["psnr"] + 1.0 and e["lpips"] < s["lpips"] - 0.02
    print("learned: yes" if improved else "learned: NO (end not clearly better than start)")
    return 0 if improved else 1


if __name__ == "__main__":
    sys.exit(main())
