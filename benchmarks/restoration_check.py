"""Restoration learning checks: train each task config for a wall-clock budget on CPU, then score it beside the
classical baselines on photos it never saw, with fixed degradations.

    python benchmarks/restoration_check.py [--tasks denoise sr_x4 deblur jpeg lowlight] [--minutes 16]
                                        [--out logs/restoration_check] [--skip-fit] [fit flags ...]

1. Split ``--photos`` (default ``../shared/data/photos``) with ``data.val_ratio 0.25`` and the data module's fixed
   split seed; the 66 held-out photos are the evaluation split (``OUT/eval_photos``), the rest train.
2. ``fit`` ``configs/tasks/<task>.yaml`` for ``--minutes`` at the task's crop size (64 px; 96 for x4 SR), on the
   other photos minus CBSD68 and Set14 (``data.exclude``: the papers' test sets stay unseen), the learning curve
   in ``OUT/<task>/fit``; the last EMA generator is scored (no choice on the evaluation photos).
3. ``evaluate`` the model and the task's baselines on the held-out photos centre-cropped to ``--size`` (256),
   degraded by the task's fixed presets (one bucket each, seeded, 8-bit): PSNR/SSIM on RGB and Y, LPIPS (Alex).
4. ``OUT/<task>/check.md`` and ``OUT/report.md`` (every task's table) and ``OUT/<task>/grid.png``: input | model
   | best baseline | ground truth on the model's worst and median cases. Files are written as stages finish.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from _common import ROOT, eval_split, fit_for, prepare, run

#: task -> training crop, evaluation presets, baselines (a baseline may be limited to some presets: BM3D is slow)
TASKS: dict[str, dict] = {
    "denoise": {
        "crop": 64, "presets": ["denoise15", "denoise25", "denoise50"],
        "baselines": {"identity": None, "nlm": None, "bm3d": ["denoise25"]},
    },
    "sr_x4": {"crop": 96, "presets": ["sr_x4"], "baselines": {"bicubic": None}},
    "deblur": {
        "crop": 64, "presets": ["blur_gaussian2", "blur_defocus2", "blur_motion11"],
        "baselines": {"identity": None, "richardson_lucy": None, "wiener": None},
    },
    "jpeg": {"crop": 64, "presets": ["jpeg10", "jpeg20", "jpeg40"], "baselines": {"identity": None}},
    "lowlight": {"crop": 64, "presets": ["lowlight"], "baselines": {"identity": None, "clahe": None, "gamma": None}},
    "sr_x2": {"crop": 64, "presets": ["sr_x2"], "baselines": {"bicubic": None}},
    "blind": {"crop": 64, "presets": ["blind_x1"], "baselines": {"identity": None, "nlm": None}},
}  # fmt: skip
#: the papers' test sets among ../shared's photos (CBSD68, Set14): never trained on (benchmarks/paper_protocols.py)
HELD_OUT = ["bsds_*", "set14_*"]
# non-blind deblurring: the same blurs, scored against the same baselines
TASKS["deconvolve"] = TASKS["deblur"]


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tasks", nargs="+", choices=list(TASKS), default=["denoise", "sr_x4", "deblur", "jpeg", "lowlight"]
    )
    parser.add_argument("--minutes", type=float, default=16.0, help="training wall-clock budget per task")
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "data" / "photos")
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "restoration_check")
    parser.add_argument("--size", type=int, default=256, help="evaluation crop")
    parser.add_argument(
        "--val-ratio", type=float, default=0.25, help="share of photos held out for evaluation"
    )
    parser.add_argument(
        "--skip-fit", action="store_true", help="score OUT/<task>/fit/ckpt/last.ckpt as it is"
    )
    return parser.parse_known_args(argv)


def evaluate(
    args: argparse.Namespace, task: str, images: Path, name: str, what: list[str], presets: list[str]
) -> dict:
    out = args.out / task / "eval" / name
    result = out / "metrics.json"
    if name != "model" and result.exists():  # classical baselines do not change between runs
        return json.loads(result.read_text())
    cmd = [
        sys.executable, "-m", "inpaint_lightning", "evaluate", "--images", str(images), "--degradation", *presets,
        "--size", str(args.size), "--output", str(out), "--save-outputs", "--quiet", *what,
    ]  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    run(cmd, out.parent / f"{name}.log")
    return json.loads(result.read_text())


METRICS = (("psnr", "PSNR", "{:.2f}"), ("ssim", "SSIM", "{:.4f}"), ("psnr_y", "PSNR-Y", "{:.2f}"),
           ("ssim_y", "SSIM-Y", "{:.4f}"), ("lpips", "LPIPS", "{:.4f}"))  # fmt: skip


def table(results: dict[str, dict]) -> list[str]:
    """One row per method and bucket (then ``all`` when there are several buckets)."""
    lines = ["| method | degradation | n | " + " | ".join(h for _, h, _ in METRICS) + " |",
             "|---|---|---:|" + "---:|" * len(METRICS)]  # fmt: skip
    for name, r in results.items():
        rows = list(r["buckets"].items()) + ([("all", r["overall"])] if len(r["buckets"]) > 1 else [])
        for bucket, values in rows:
            cells = " | ".join(fmt.format(values[k]) if k in values else "-" for k, _, fmt in METRICS)
            lines.append(f"| {name} | {bucket} | {values['count']} | {cells} |")
    return lines


def verdict(results: dict[str, dict]) -> list[str]:
    """Per bucket: does the model beat each baseline on PSNR-Y and LPIPS, by how much."""
    model, lines = results["model"], []
    for name, r in results.items():
        if name == "model":
            continue
        for bucket, theirs in r["buckets"].items():
            ours = model["buckets"][bucket]
            dp = ours["psnr_y"] - theirs["psnr_y"]
            dl = 1 - ours["lpips"] / theirs["lpips"]
            ok = "beats" if dp > 0 and dl > 0 else "does not beat"
            lines.append(f"- {bucket}: model {ok} {name}: PSNR-Y {dp:+.2f} dB, LPIPS {dl:+.1%} lower")
    return lines


def grid(args: argparse.Namespace, task: str, columns: list[str]) -> Path:
    """Rows: the model's 3 worst and 3 median cases by LPIPS; columns: input | methods | ground truth."""
    from inpaint_lightning.captions import caption_strip

    with (args.out / task / "eval" / "model" / "per_image.csv").open() as f:
        rows = sorted(csv.DictReader(f), key=lambda r: float(r["lpips"]))
    mid = len(rows) // 2
    chosen = rows[::-1][:3] + rows[mid - 1 : mid + 2]
    inputs = _inputs(args, task)
    tile, gap, lines = 224, 4, []
    for row in chosen:
        cells = [inputs[row["name"]]]
        for name in columns:
            path = args.out / task / "eval" / name / "outputs" / f"{row['name']}.png"
            cells.append(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))
        cells.append(_truth(args, row["name"]))
        cells = [
            cv2.resize(
                c, (tile, tile), interpolation=cv2.INTER_NEAREST if c.shape[0] < tile else cv2.INTER_AREA
            )
            for c in cells
        ]
        sep = np.full((tile, gap, 3), 255, np.uint8)
        line = cells[0]
        for c in cells[1:]:
            line = np.hstack([line, sep, c])
        lines += [line, np.full((gap, line.shape[1], 3), 255, np.uint8)]
    image = np.vstack([caption_strip(["input", *columns, "ground truth"], tile, gap), *lines[:-1]])
    path = args.out / task / "grid.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def _inputs(args: argparse.Namespace, task: str) -> dict[str, np.ndarray]:
    """The degraded inputs as the evaluation saw them (the identity/bicubic baseline's outputs are them)."""
    from inpaint_lightning.data.eval_sets import DegradedImages
    from inpaint_lightning.data.io import list_images

    images = [(p.stem, p) for p in sorted(list_images(args.out / "eval_photos"))]
    data = DegradedImages(images, TASKS[task]["presets"], args.size)
    out = {}
    for i in range(len(data)):
        sample = data[i]
        if sample is not None:
            out[sample["name"]] = (sample["input"].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    return out


def _truth(args: argparse.Namespace, name: str) -> np.ndarray:
    from inpaint_lightning.data.eval_sets import resize_center_crop
    from inpaint_lightning.data.io import read_image

    stem = name.split("/")[-1]
    path = next(p for p in (args.out / "eval_photos").iterdir() if p.stem == stem)
    return resize_center_crop(read_image(path), args.size)


def main(argv: list[str]) -> int:
    args, extra = parse_args(argv)
    if not prepare(args.out, args.photos):
        return 2
    images = eval_split(args.photos, args.val_ratio, args.out)
    report = [f"# Restoration learning checks ({args.minutes:g} CPU minutes each)", ""]
    for task in args.tasks:
        spec = TASKS[task]
        crop = _override(extra, "--data.image_size", spec["crop"])
        fit_dir = args.out / task / "fit"
        ckpt = fit_dir / "ckpt" / "last.ckpt"
        if not args.skip_fit:
            config = str(ROOT / "configs" / "tasks" / f"{task}.yaml")
            ckpt = fit_for([config], args.photos, args.val_ratio, args.minutes, fit_dir,
                           ["--data.image_size", str(spec["crop"]), "--data.exclude", json.dumps(HELD_OUT), *extra])  # fmt: skip
        results = {
            "model": evaluate(args, task, images, "model", ["--checkpoint", str(ckpt)], spec["presets"])
        }
        for name, only in spec["baselines"].items():
            results[name] = evaluate(args, task, images, name, ["--method", name], only or spec["presets"])
        steps = _steps(fit_dir)
        lines = [f"## {task} (`configs/tasks/{task}.yaml`, {crop} px crops, {steps} steps)", "",
                 *table(results), "", *verdict(results), ""]  # fmt: skip
        full = [
            n
            for n in results
            if n not in ("model", "identity")
            and results[n]["buckets"].keys() == results["model"]["buckets"].keys()
        ]
        best = min(full, default=None,
                   key=lambda n: results[n]["overall"]["lpips"])  # fmt: skip
        columns = ["model", *([best] if best else [])]
        lines.append(f"![{task}]({grid(args, task, columns).relative_to(args.out)})\n")
        (args.out / task / "check.md").write_text("\n".join(lines) + "\n")
        report += lines
        (args.out / "report.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


def _override(extra: list[str], flag: str, default: object) -> str:
    """The last value given to ``flag`` among the extra fit arguments (``--flag v`` or ``--flag=v``), else
    ``default``: what the run used, for its report."""
    value = str(default)
    for i, arg in enumerate(extra):
        if arg == flag and i + 1 < len(extra):
            value = extra[i + 1]
        elif arg.startswith(flag + "="):
            value = arg.split("=", 1)[1]
    return value


def _steps(fit_dir: Path) -> str:
    """Optimizer steps of the run (the last ``step`` logged in its CSV), or ``?``."""
    steps = 0
    for file in fit_dir.rglob("metrics.csv"):
        with file.open() as f:
            steps = max([steps, *(int(float(r["step"])) for r in csv.DictReader(f) if r.get("step"))])
    return str(steps) if steps else "?"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
