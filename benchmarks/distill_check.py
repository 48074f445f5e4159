"""Distillation check: at an equal wall-clock budget, does a small student trained against a frozen teacher reach
lower LPIPS to the hidden photo than the same student trained without one?

Three fits of the student (``--student``, a generator as JSON; default a narrow FFC ResNet) on ``--photos`` for
``--minutes`` each: ``alone`` (the default recipe, configs/gan.yaml), ``teacher + recipe`` (the same objective plus
the teacher's L1 in the hole, weight 2) and ``MI-GAN recipe`` (configs/distill.yaml: the teacher's L1 instead of
the photo's, adversarial weight 1, R1 10, Adam 1e-3 betas 0/0.99). Each student, and the teacher, are scored by
``evaluate`` on ``--eval-photos`` (photos no run trained on) with ``--masks``, and each teacher-trained student
is compared with ``alone`` per image by a paired bootstrap; CPU latency of student and teacher at 512 px.
Results are appended to ``<out>/results.json`` as each step ends.

    python benchmarks/distill_check.py --teacher T.ckpt --photos DIR --eval-photos DIR2 --masks MASKS \
        --minutes 8 --out runs/distill
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import torch
from _common import ROOT, fit_for, median_seconds, run

from inpaint_lightning.checkpoint import load_generator
from inpaint_lightning.evaluation.stats import paired_bootstrap

STUDENT = {
    "class_path": "inpaint_lightning.models.FFCResNet",
    "init_args": {"base_channels": 16, "n_downsampling": 3, "n_blocks": 3, "max_channels": 256},
}
RUNS = {
    "alone": ([], []),
    "teacher + recipe": ([], ["--model.loss", "inpaint_lightning.losses.DistillationLoss"]),
    "MI-GAN recipe": (["configs/distill.yaml"], []),
}


def per_image_lpips(folder: Path) -> dict[str, float]:
    with (folder / "per_image.csv").open() as f:
        return {row["name"]: float(row["lpips"]) for row in csv.DictReader(f)}


def latency(path: Path, side: int = 512, runs: int = 5) -> float:
    generator = load_generator(path)
    x = torch.rand(1, 4, side, side)
    x[:, 3:] = (x[:, 3:] > 0.7).float()
    with torch.inference_mode():
        return median_seconds(lambda: generator(x), runs)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teacher", type=Path, required=True)
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--eval-photos", type=Path, required=True)
    parser.add_argument("--masks", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--size", type=int, default=128, help="training crops and evaluation size")
    parser.add_argument("--student", type=json.loads, default=STUDENT)
    parser.add_argument(
        "--runs", nargs="+", choices=list(RUNS), default=list(RUNS), help="which fits (default all)"
    )
    parser.add_argument("--out", type=Path, required=True)
    args, extra = parser.parse_known_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}

    def save() -> None:
        results_file.write_text(json.dumps(results, indent=1))

    def evaluate(name: str, checkpoint: Path) -> None:
        folder = args.out / "eval" / name.replace(" ", "_")
        run([sys.executable, "-m", "inpaint_lightning", "evaluate", "--checkpoint", str(checkpoint), "--images",
             str(args.eval_photos), "--masks", str(args.masks), "--size", str(args.size), "--output", str(folder),
             "--quiet"], args.out / "eval.log")  # fmt: skip
        summary = json.loads((folder / "metrics.json").read_text())["overall"]
        results[name] = {"lpips": summary["lpips"], "psnr": summary["psnr"], "checkpoint": str(checkpoint),
                         "latency_512_s": latency(checkpoint)}  # fmt: skip
        save()

    if "teacher" not in results:
        evaluate("teacher", args.teacher)
    teacher = ["--model.loss.init_args.teacher", str(args.teacher.resolve())]
    for name, (configs, flags) in RUNS.items():
        if name in results or name not in args.runs:
            continue
        fit_dir = args.out / "fit" / name.replace(" ", "_")
        layered = [str(ROOT / "configs" / "gan.yaml"), *[str(ROOT / c) for c in configs]]
        run_flags = [
            "--model.generator", json.dumps(args.student), "--data.image_size", str(args.size),
            "--data.max_side", "256", "--data.cache_images", "true", "--trainer.val_check_interval", "100000",
            "--trainer.enable_progress_bar", "false", *flags, *(teacher if name != "alone" else []), *extra,
        ]  # fmt: skip
        last = fit_for(layered, args.photos, 0.1, args.minutes, fit_dir, run_flags)
        evaluate(name, last)
        results[name]["wall_seconds"] = float((fit_dir / "wall_seconds.txt").read_text())
        save()

    alone = per_image_lpips(args.out / "eval" / "alone")
    print("| model | LPIPS | PSNR | vs alone: mean LPIPS difference [95 % CI] | latency 512 px (s) |")
    print("|---|---:|---:|---|---:|")
    for name, row in results.items():
        compare = ""
        if name not in ("alone", "teacher"):
            ours = per_image_lpips(args.out / "eval" / name.replace(" ", "_"))
            names = sorted(alone)
            mean, low, high = paired_bootstrap([ours[n] for n in names], [alone[n] for n in names])
            row["vs_alone"] = [mean, low, high]
            compare = f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]"
        print(f"| {name} | {row['lpips']:.4f} | {row['psnr']:.2f} | {compare} | {row['latency_512_s']:.3f} |")
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
