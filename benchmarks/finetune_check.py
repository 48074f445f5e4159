"""Fine-tuning check: does fine-tuning from a checkpoint stay at least as good as its source over its first steps?

From ``--source`` (a checkpoint of the default generator, or any with ``--config``), fine-tune on ``--photos``
(other photos than the source saw) for ``--steps`` batches, twice: with the recipe (a discriminator-only warm-up
of ``--warmup`` batches, BatchNorm statistics frozen) and without either. Both at the fine-tuning rates (G and D
Adam ``--lr``, 1e-4 by default, constant). Validation LPIPS/PSNR on the photos' held-out split at step 0 (the source itself, the same for
both) and every ``steps / 4``. Results are appended to ``<out>/curves.json`` as each run ends.

    python benchmarks/finetune_check.py --source SRC.ckpt --photos DIR --steps 400 --out runs/finetune
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _common import fit_for, learning_curve, run

VAL_RATIO = 0.2  # of --photos held out for validation

VARIANTS = {
    "recipe (D warm-up, frozen BN)": lambda warmup: [
        "--model.freeze_batchnorm", "true", "--model.loss.init_args.discriminator_warmup", str(warmup)],
    "plain": lambda warmup: ["--model.freeze_batchnorm", "false", "--model.loss.init_args.discriminator_warmup", "0"],
}  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-4, help="G and D learning rate (constant)")
    parser.add_argument("--config", action="append", default=None, help="configs (default configs/gan.yaml)")
    parser.add_argument("--out", type=Path, required=True)
    args, extra = parser.parse_known_args(argv)
    configs = args.config or ["configs/gan.yaml"]
    settings = [
        "--data.image_size", str(args.image_size), "--data.max_side", "256", "--data.cache_images", "true",
        "--data.batch_size", str(args.batch_size), "--model.init_from", str(args.source),
        "--model.g_optimizer.init_args.lr", str(args.lr), "--model.d_optimizer.init_args.lr", str(args.lr),
        "--model.g_scheduler", "null", "--model.d_scheduler", "null", "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "curves.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    if "step 0" not in results:  # the source itself on the same split, crops and masks (fit_for's split)
        folder = args.out / "step0"
        run([sys.executable, "-m", "inpaint_lightning", "validate", *[a for c in configs for a in ("--config", c)],
             "--data.root", str(args.photos), "--data.val_ratio", str(VAL_RATIO), "--data.test_ratio", "0",
             "--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.init_args.save_dir",
             str(folder), *settings, *extra], args.out / "step0.log")  # fmt: skip
        results["step 0"] = learning_curve(folder)[-1][1:]  # (lpips, psnr) of the source
        results_file.write_text(json.dumps(results, indent=1))
    for name, flags in VARIANTS.items():
        if name in results:
            continue
        folder = args.out / name.split()[0]
        steps = ["--trainer.max_steps", str(args.steps), "--trainer.val_check_interval", str(args.steps // 4)]
        fit_for(
            configs, args.photos, VAL_RATIO, 24 * 60, folder, [*settings, *steps, *flags(args.warmup), *extra]
        )
        results[name] = learning_curve(folder)
        results_file.write_text(json.dumps(results, indent=1))
    lpips0, psnr0 = results["step 0"]
    print(
        f"| run | step | val LPIPS | val PSNR |\n|---|---:|---:|---:|\n| source | 0 | {lpips0:.4f} | {psnr0:.2f} |"
    )
    for name in VARIANTS:
        for step, lpips, psnr in results[name]:
            print(f"| {name} | {step} | {lpips:.4f} | {psnr:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
