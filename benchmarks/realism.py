"""The realism benchmark: train the default recipe for a wall-clock budget, then score it beside classical fills.

    python benchmarks/realism.py --minutes 60 [--config configs/gan.yaml ...] [--out logs/realism] [fit flags ...]
    make realism REALISM_MINUTES=60

1. Split ``--photos`` (default ``../shared/data/photos``) with ``data.val_ratio 0.25`` and the data module's fixed
   split seed: the 66 held-out photos are the evaluation split (linked into ``OUT/eval_photos``), the rest train.
2. ``fit`` the config(s) on that folder for ``--minutes`` (``trainer.max_time``), validating on the held-out photos
   (the learning curve goes to ``OUT/fit/metrics.csv``; the last EMA generator is scored, not a "best"
   checkpoint, so no choice is made on the evaluation photos).
3. ``evaluate`` the EMA generator and the classical fills (Telea, Navier-Stokes, PatchMatch) on the 66 photos with
   the NVIDIA irregular masks (``--masks``; fixed assignment), at 256 and 512 px. Baseline results are kept
   between runs (they do not depend on the model).
4. ``OUT/realism.md``: LPIPS/PSNR/SSIM overall and per hole-ratio bucket, the model's LPIPS gain over the best
   classical fill and the issue's criteria (>= 15 % overall and in the four largest buckets, PSNR within 0.5 dB of
   Telea), plus ``OUT/grid_<size>.png``: masked | model | telea | patchmatch | ground truth on the worst and
   median cases. Every stage writes its files as it finishes, so a cut-off run keeps what it measured.
5. ``benchmarks/realism_ceiling.py``, appended to ``realism.md``: the same pairs filled by oracles that know the
   hidden pixels (the truth's low frequencies, PatchMatch's or the truth's own detail on top), to show what the
   target asks of a fill. Kept with the classical fills (``eval_<size>/ceiling.md``) and reused: it uses
   PatchMatch's fills, not the model.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
from _common import eval_split, fit_for, learning_curve, run

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BASELINES = ("telea", "ns", "patchmatch")
TARGET_GAIN, PSNR_SLACK, LARGEST_BUCKETS = 0.15, 0.5, 4


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="training wall-clock budget")
    parser.add_argument("--config", action="append", help="fit config(s), layered (default configs/gan.yaml)")
    parser.add_argument("--photos", type=Path, default=SHARED / "photos")
    parser.add_argument("--masks", type=Path, default=SHARED / "masks_irregular")
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "realism")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument(
        "--val-ratio", type=float, default=0.25, help="share of photos held out for evaluation"
    )
    parser.add_argument("--skip-fit", action="store_true", help="score OUT/fit/ckpt/last.ckpt as it is")
    parser.add_argument(
        "--baseline-dir", type=Path, help="where classical fills' results are kept and reused (default --out)"
    )
    return parser.parse_known_args(argv)


def fit(args: argparse.Namespace, extra: list[str]) -> Path:
    configs = args.config or ["configs/gan.yaml"]
    return fit_for(configs, args.photos, args.val_ratio, args.minutes, args.out / "fit", extra)


def result_dir(args: argparse.Namespace, size: int, name: str) -> Path:
    """``<out>/eval_<size>/<name>``; classical fills under ``--baseline-dir`` (shared by several runs)."""
    root = (args.baseline_dir or args.out) if name in BASELINES else args.out
    return root / f"eval_{size}" / name


def evaluate(args: argparse.Namespace, images: Path, size: int, name: str, what: list[str]) -> dict:
    out = result_dir(args, size, name)
    result = out / "metrics.json"
    if name in BASELINES and result.exists():  # classical fills do not change between runs
        return json.loads(result.read_text())
    cmd = [
        sys.executable, "-m", "inpaint_lightning", "evaluate", "--images", str(images), "--masks", str(args.masks),
        "--size", str(size), "--output", str(out), "--save-outputs", "--quiet", *what,
    ]  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    run(cmd, out.parent / f"{name}.log")
    return json.loads(result.read_text())


def verdict(results: dict[str, dict]) -> tuple[list[str], bool]:
    """Lines comparing the model with the best classical fill, and whether every criterion holds."""
    model = results["model"]
    classical = {k: v for k, v in results.items() if k in BASELINES}
    best = min(classical, key=lambda k: classical[k]["overall"]["lpips"])
    ok = True
    lines = []

    def gain(ours: float, theirs: float) -> float:
        return 1.0 - ours / theirs

    g = gain(model["overall"]["lpips"], classical[best]["overall"]["lpips"])
    ok &= g >= TARGET_GAIN
    lines.append(f"- overall LPIPS {model['overall']['lpips']:.4f} vs {best} {classical[best]['overall']['lpips']:.4f}: "
                 f"{g:+.1%} (target >= {TARGET_GAIN:.0%}) {'OK' if g >= TARGET_GAIN else 'NOT MET'}")  # fmt: skip
    buckets = sorted(model["buckets"], key=lambda b: float(b.split("-")[0]))[-LARGEST_BUCKETS:]
    for bucket in buckets:
        theirs = min(v["buckets"][bucket]["lpips"] for v in classical.values() if bucket in v["buckets"])
        g = gain(model["buckets"][bucket]["lpips"], theirs)
        ok &= g >= TARGET_GAIN
        lines.append(f"- bucket {bucket} (n={model['buckets'][bucket]['count']}): LPIPS {model['buckets'][bucket]['lpips']:.4f} "
                     f"vs best classical {theirs:.4f}: {g:+.1%} {'OK' if g >= TARGET_GAIN else 'NOT MET'}")  # fmt: skip
    d = model["overall"]["psnr"] - results["telea"]["overall"]["psnr"]
    ok &= d >= -PSNR_SLACK
    lines.append(f"- PSNR {model['overall']['psnr']:.2f} vs Telea {results['telea']['overall']['psnr']:.2f}: {d:+.2f} dB "
                 f"(no worse than -{PSNR_SLACK} dB) {'OK' if d >= -PSNR_SLACK else 'NOT MET'}")  # fmt: skip
    return lines, ok


def table(results: dict[str, dict]) -> list[str]:
    buckets = sorted(results["model"]["buckets"], key=lambda b: float(b.split("-")[0]))
    head = "| method | " + " | ".join(f"LPIPS {b}" for b in buckets) + " | LPIPS all | PSNR all | SSIM all |"
    lines = [head, "|---|" + "---:|" * (len(buckets) + 3)]
    for name, r in results.items():
        cells = [f"{r['buckets'][b]['lpips']:.4f}" if b in r["buckets"] else "-" for b in buckets]
        o = r["overall"]
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {o['lpips']:.4f} | {o['psnr']:.2f} | {o['ssim']:.4f} |"
        )
    counts = " | ".join(str(results["model"]["buckets"][b]["count"]) for b in buckets)
    lines.append(f"| (images) | {counts} | {results['model']['overall']['count']} | | |")
    return lines


def grid(args: argparse.Namespace, size: int, columns: list[str]) -> Path:
    """Rows: the 4 worst and 4 median cases by the model's LPIPS; columns: masked | each method | ground truth."""
    from inpaint_lightning.captions import caption_strip
    from inpaint_lightning.data.eval_sets import resize_center_crop
    from inpaint_lightning.data.io import read_image, read_mask

    with (result_dir(args, size, "model") / "per_image.csv").open() as f:
        rows = sorted(csv.DictReader(f), key=lambda r: float(r["lpips"]))
    mid = len(rows) // 2
    chosen = rows[::-1][:4] + rows[mid - 2 : mid + 2]
    pairs = {p.name: p for p in _pairs(args)}
    tile, gap, lines = 192, 4, []
    for row in chosen:
        pair = pairs[row["name"]]
        truth = resize_center_crop(read_image(pair.image), size)
        hole = read_mask(pair.mask, size=(size, size)) > 0.5
        masked = truth.copy()
        masked[hole] = 255
        cells = [masked]
        for name in columns:
            path = result_dir(args, size, name) / "outputs" / f"{row['name']}.png"
            cells.append(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))
        cells.append(truth)
        cells = [cv2.resize(c, (tile, tile), interpolation=cv2.INTER_AREA) for c in cells]
        sep = np.full((tile, gap, 3), 255, np.uint8)
        line = cells[0]
        for c in cells[1:]:
            line = np.hstack([line, sep, c])
        lines += [line, np.full((gap, line.shape[1], 3), 255, np.uint8)]
    labels = ["masked", *columns, "ground truth"]
    image = np.vstack([caption_strip(labels, tile, gap), *lines[:-1]])
    path = args.out / f"grid_{size}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def ceiling(args: argparse.Namespace, size: int) -> list[str]:
    """The oracle table at ``size`` (realism_ceiling.py), headings one level down for the report; computed once
    beside the classical fills it is built from, then reused."""
    path = result_dir(args, size, "patchmatch").parent / "ceiling.md"
    if not path.exists():
        cmd = [
            sys.executable, str(ROOT / "benchmarks" / "realism_ceiling.py"), "--out", str(args.out),
            "--baseline-dir", str(args.baseline_dir or args.out), "--masks", str(args.masks),
            "--sizes", str(size), "--output", str(path),
        ]  # fmt: skip
        run(cmd, args.out / "ceiling.log")
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## "))  # the size's own section
    return [f"#{line}" if line.startswith("#") else line for line in lines[start:]]


def _pairs(args: argparse.Namespace):
    from inpaint_lightning.data.mask_pairing import pair_paths

    return pair_paths(args.out / "eval_photos", args.masks, seed=0)


def main(argv: list[str]) -> int:
    args, extra = parse_args(argv)
    os.environ.setdefault("WANDB_MODE", "offline")
    for path in (args.photos, args.masks):
        if not path.is_dir():
            print(f"error: folder not found: {path} (pass --photos/--masks)", file=sys.stderr)
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    images = eval_split(args.photos, args.val_ratio, args.out)
    ckpt = args.out / "fit" / "ckpt" / "last.ckpt"
    if not args.skip_fit:
        ckpt = fit(args, extra)
    report = [f"# Realism benchmark ({args.minutes:g} min of training)", ""]
    curve = learning_curve(args.out / "fit")
    if curve:
        report += ["Learning curve (validation on the held-out photos, training masks):", "",
                   "| step | val/lpips | val/psnr |", "|---:|---:|---:|"]  # fmt: skip
        report += [f"| {s} | {lp:.4f} | {ps:.2f} |" for s, lp, ps in curve] + [""]
    all_ok = True
    for size in args.sizes:
        results = {"model": evaluate(args, images, size, "model", ["--checkpoint", str(ckpt)])}
        for name in BASELINES:
            results[name] = evaluate(args, images, size, name, ["--method", name])
        lines, ok = verdict(results)
        all_ok &= ok
        report += [f"## {size} px", "", *table(results), "", *lines, ""]
        report.append(f"![grid]({grid(args, size, ['model', 'telea', 'patchmatch']).name})\n")
        (args.out / "realism.md").write_text("\n".join(report) + "\n")
    report.append(f"**All criteria met: {'yes' if all_ok else 'no'}**")
    (args.out / "realism.md").write_text("\n".join(report) + "\n")
    report += [
        "",
        "## What the target asks for (oracle fills: benchmarks/realism_ceiling.py; ✓ = meets it)",
        "",
    ]
    for size in args.sizes:
        report += ceiling(args, size)
        (args.out / "realism.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
