"""The realism benchmark: train the default recipe for a wall-clock budget, then score it beside classical fills
on two mask protocols.

    python benchmarks/realism.py --minutes 60 [--config configs/gan.yaml ...] [--out logs/realism] [fit flags ...]
    python benchmarks/realism.py --skip-fit --candidate hybrid=path/to/last.ckpt   # score other fills too
    make realism REALISM_MINUTES=60

1. Split ``--photos`` (default ``../shared/data/photos``) with ``data.val_ratio 0.25`` and the data module's fixed
   split seed: the 66 held-out photos are the evaluation split (linked into ``OUT/eval_photos``), the rest train.
2. ``fit`` the config(s) on that folder for ``--minutes`` (``trainer.max_time``), validating on the held-out photos
   (the learning curve goes to ``OUT/fit/metrics.csv``; the last EMA generator is scored, not a "best"
   checkpoint, so no choice is made on the evaluation photos).
3. ``evaluate`` the EMA generator, every ``--candidate NAME=CHECKPOINT`` and the classical fills (Telea,
   Navier-Stokes, PatchMatch) on the 66 photos at 256 and 512 px, on two protocols:

   - ``nvidia``: the NVIDIA irregular masks (``--masks``; one per photo, fixed assignment), 10 % buckets;
   - ``freeform``: CoModGAN/MI-GAN-style large free-form holes (``masks --preset large``'s generator, seed 0,
     ``--freeform-per-photo`` per photo, written once to ``OUT/masks_freeform`` as ``<stem>_mask<k>.png``),
     CoModGAN's 20 % buckets.

   Each run also reports KID (with std and n; real set: the same crops of the originals) and P-IDS/U-IDS (linear
   SVM fitted on half the pairs) in ``--embedding`` (default ``alexnet``: offline, and no training loss uses it).
   Baseline results are kept between runs (they do not depend on the model).
4. ``OUT/realism.md``: per protocol and size, LPIPS/PSNR/SSIM overall and per bucket, KID and U-IDS; each
   candidate's LPIPS against PatchMatch's as a paired-bootstrap mean difference with its 95 % interval (photos are
   resampled, a photo's fills together); CPU seconds per 512 px image (median of 5, ``Inpainter``); and issue 28's
   criteria: on ``freeform`` >= 5 % below PatchMatch overall and in the two largest buckets with an interval that
   excludes 0, KID and U-IDS better than PatchMatch's; on ``nvidia`` no worse than PatchMatch overall and per
   bucket; PSNR within 0.5 dB of Telea; at most 2x PatchMatch's time. ``OUT/grid_<protocol>_<size>.png``: masked
   | each fill | ground truth on the worst and median cases of the first fill. Every stage writes its files as it
   finishes, so a cut-off run keeps what it measured.
5. ``benchmarks/realism_ceiling.py``, appended to ``realism.md``: the NVIDIA pairs filled by oracles that know the
   hidden pixels (the truth's low frequencies, PatchMatch's or the truth's own detail on top), to show what an
   LPIPS target asks of a fill. Kept with the classical fills (``eval_<size>/ceiling.md``) and reused.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from _common import eval_split, fit_for, learning_curve, median_seconds, prepare, run

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BASELINES = ("telea", "ns", "patchmatch")
PROTOCOLS = ("nvidia", "freeform")
BUCKET_WIDTH = {"nvidia": 0.1, "freeform": 0.2}
FREEFORM_GAIN, PSNR_SLACK, TIME_RATIO, LARGEST_BUCKETS, MIN_BUCKET = 0.05, 0.5, 2.0, 2, 5


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="training wall-clock budget")
    parser.add_argument("--config", action="append", help="fit config(s), layered (default configs/gan.yaml)")
    parser.add_argument("--photos", type=Path, default=SHARED / "photos")
    parser.add_argument(
        "--masks", type=Path, default=SHARED / "masks_irregular", help="the NVIDIA protocol's"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "realism")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument("--freeform-per-photo", type=int, default=4, help="large free-form masks per photo")
    parser.add_argument("--embedding", choices=("alexnet", "random", "inception"), default="alexnet")
    parser.add_argument(
        "--val-ratio", type=float, default=0.25, help="share of photos held out for evaluation"
    )
    parser.add_argument("--skip-fit", action="store_true", help="score OUT/fit/ckpt/last.ckpt as it is")
    parser.add_argument(
        "--no-model", action="store_true", help="score only the --candidate fills and baselines"
    )
    parser.add_argument(
        "--candidate", action="append", default=[], metavar="NAME=CHECKPOINT",
        help="also score this fill (a checkpoint, export, or a classical name) beside the model; repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--baseline-dir", type=Path, help="where classical fills' results are kept and reused (default --out)"
    )
    return parser.parse_known_args(argv)


def fit(args: argparse.Namespace, extra: list[str]) -> Path:
    configs = args.config or ["configs/gan.yaml"]
    return fit_for(configs, args.photos, args.val_ratio, args.minutes, args.out / "fit", extra)


def result_dir(args: argparse.Namespace, size: int, protocol: str, name: str) -> Path:
    """``<out>/eval_<size>[_freeform]/<name>``; classical fills under ``--baseline-dir`` (shared by several runs)."""
    root = (args.baseline_dir or args.out) if name in BASELINES else args.out
    return root / (f"eval_{size}" if protocol == "nvidia" else f"eval_{size}_{protocol}") / name


def freeform_masks(args: argparse.Namespace, images: Path) -> Path:
    """``--freeform-per-photo`` large free-form masks per held-out photo, named ``<stem>_mask<k>.png`` (so
    ``evaluate`` pairs them by name), drawn at 512 px by the ``large`` preset's generator with seed 0 in
    photo-name order; written once and reused (the same masks on every machine)."""
    from inpaint_lightning.data.mask_presets import LargeMasks

    folder = args.out / "masks_freeform"
    stems = sorted(p.stem for p in images.iterdir())
    if folder.is_dir() and len(list(folder.glob("*.png"))) == len(stems) * args.freeform_per_photo:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):  # another --freeform-per-photo: no stale mask may pair with a photo
        old.unlink()
    generator, rng = LargeMasks(), np.random.default_rng(0)
    for stem in stems:
        for k in range(args.freeform_per_photo):
            mask = generator(512, 512, rng)
            cv2.imwrite(str(folder / f"{stem}_mask{k:03d}.png"), (mask > 0.5).astype(np.uint8) * 255)
    return folder


def evaluate(
    args: argparse.Namespace, images: Path, masks: Path, size: int, protocol: str, name: str, what: list[str]
) -> dict:
    from inpaint_lightning.models.classical import describe

    out = result_dir(args, size, protocol, name)
    result, made_by = out / "metrics.json", out / "fill.txt"
    # a classical fill's results hold while its settings (describe) do; a model is scored again every run
    if name in BASELINES and result.exists() and made_by.exists() and made_by.read_text() == describe(name):
        return json.loads(result.read_text())
    cmd = [
        sys.executable, "-m", "inpaint_lightning", "evaluate", "--images", str(images), "--masks", str(masks),
        "--size", str(size), "--output", str(out), "--save-outputs", "--quiet",
        "--bucket-width", str(BUCKET_WIDTH[protocol]), "--kid", "--ids", "--embedding", args.embedding, *what,
    ]  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    run(cmd, out.parent / f"{name}.log")
    made_by.write_text(describe(name))
    return json.loads(result.read_text())


def per_image(args: argparse.Namespace, size: int, protocol: str, name: str) -> dict[str, dict]:
    """Pair name -> its row of ``evaluate``'s ``per_image.csv`` (scores as floats, ``bucket`` as written)."""
    with (result_dir(args, size, protocol, name) / "per_image.csv").open() as f:
        return {
            r["name"]: {k: v if k == "bucket" else float(v) for k, v in r.items() if k != "name" and v}
            for r in csv.DictReader(f)
        }


def photo_of(name: str) -> str:
    """The photo a pair belongs to (``<stem>_mask003`` -> ``<stem>``): the unit the bootstrap resamples."""
    return name.rsplit("_mask", 1)[0]


def lpips_vs(args: argparse.Namespace, size: int, protocol: str, name: str, other: str) -> dict[str, tuple]:
    """``{"all" | bucket: (mean LPIPS difference name - other, low, high)}``: the paired bootstrap over photos
    (a photo's fills averaged first, overall and within each bucket: fills of one photo are not independent);
    buckets with fills of fewer than ``MIN_BUCKET`` photos are left out (the report says which)."""
    from inpaint_lightning.evaluation.stats import paired_bootstrap

    ours, theirs = per_image(args, size, protocol, name), per_image(args, size, protocol, other)
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for pair, scores in ours.items():
        diff = scores["lpips"] - theirs[pair]["lpips"]
        for key in ("all", scores["bucket"]):
            groups[key][photo_of(pair)].append(diff)
    out = {}
    for key, by_photo in groups.items():
        diffs = [float(np.mean(v)) for v in by_photo.values()]
        if key == "all" or len(diffs) >= MIN_BUCKET:
            out[key] = paired_bootstrap(diffs, [0.0] * len(diffs))
    return out


def seconds_per_image(method: str, size: int, photos: Path, masks: Path) -> float:
    """Median CPU seconds of one ``size`` px fill through ``Inpainter`` (5 runs after a warm-up, whole image)."""
    import torch

    from inpaint_lightning.data.eval_sets import resize_center_crop
    from inpaint_lightning.data.io import read_image, read_mask
    from inpaint_lightning.inference import Inpainter

    torch.set_num_threads(os.cpu_count() or 1)
    photo = sorted(photos.iterdir())[0]
    mask_file = sorted(masks.glob(f"{photo.stem}_mask*.png"))[0]
    image = resize_center_crop(read_image(photo), size)
    mask = read_mask(mask_file, size=(size, size))
    inpainter = Inpainter.from_file(method, mode="full", working_size=None)
    return median_seconds(lambda: inpainter(image, mask), 5)


def bucket_order(buckets) -> list[str]:
    return sorted(buckets, key=lambda b: float(b.split("-")[0]))


def verdict(
    args: argparse.Namespace, results: dict[str, dict], size: int, protocol: str, name: str
) -> tuple[list[str], bool]:
    """Issue 28's criteria for fill ``name`` against PatchMatch (and Telea's PSNR) on ``protocol``."""
    ours, pm = results[name]["overall"], results["patchmatch"]["overall"]
    boot = lpips_vs(args, size, protocol, name, "patchmatch")
    ok, lines = True, []

    def check(label: str, key: str) -> None:
        nonlocal ok
        diff, low, high = boot[key]
        mine = ours["lpips"] if key == "all" else results[name]["buckets"][key]["lpips"]
        theirs = pm["lpips"] if key == "all" else results["patchmatch"]["buckets"][key]["lpips"]
        gain = 1.0 - mine / theirs
        if protocol == "freeform":
            good = gain >= FREEFORM_GAIN and high < 0
            goal = f">= {FREEFORM_GAIN:.0%} and interval below 0"
        else:
            good = diff <= 0 or low <= 0 <= high  # no worse: not significantly above PatchMatch
            goal = "no worse: interval not above 0"
        ok &= good
        lines.append(f"- {label}: LPIPS {mine:.4f} vs PatchMatch {theirs:.4f}: {gain:+.1%}, difference {diff:+.4f} "
                     f"[{low:+.4f}, {high:+.4f}] ({goal}) {'OK' if good else 'NOT MET'}")  # fmt: skip

    check(f"overall ({ours['count']} fills)", "all")
    buckets = [b for b in bucket_order(results[name]["buckets"]) if b in boot]
    dropped = [b for b in results[name]["buckets"] if b not in boot]
    if dropped:
        lines.append(
            f"- (buckets with fills of fewer than {MIN_BUCKET} photos, not tested: {', '.join(dropped)})"
        )
    for bucket in buckets[-LARGEST_BUCKETS:] if protocol == "freeform" else buckets:
        check(f"bucket {bucket} (n={results[name]['buckets'][bucket]['count']})", bucket)
    if protocol == "freeform":
        for key, better in (("kid", "lower"), ("u_ids", "higher")):
            if key in ours and key in pm:
                good = ours[key] < pm[key] if better == "lower" else ours[key] > pm[key]
                ok &= good
                lines.append(f"- {key.upper().replace('_', '-')} ({args.embedding}): {ours[key]:.4f} vs PatchMatch "
                             f"{pm[key]:.4f} ({better} is better) {'OK' if good else 'NOT MET'}")  # fmt: skip
    d = ours["psnr"] - results["telea"]["overall"]["psnr"]
    ok &= d >= -PSNR_SLACK
    lines.append(f"- PSNR {ours['psnr']:.2f} vs Telea {results['telea']['overall']['psnr']:.2f}: {d:+.2f} dB "
                 f"(no worse than -{PSNR_SLACK} dB) {'OK' if d >= -PSNR_SLACK else 'NOT MET'}")  # fmt: skip
    return lines, ok


def table(results: dict[str, dict], seconds: dict[str, float]) -> list[str]:
    first = next(iter(results.values()))
    buckets = bucket_order(first["buckets"])
    head = ("| method | " + " | ".join(f"LPIPS {b}" for b in buckets)
            + " | LPIPS all | PSNR all | SSIM all | KID (std) | U-IDS | P-IDS | s / 512 px |")  # fmt: skip
    lines = [head, "|---|" + "---:|" * (len(buckets) + 7)]
    for name, r in results.items():
        cells = [f"{r['buckets'][b]['lpips']:.4f}" if b in r["buckets"] else "-" for b in buckets]
        o = r["overall"]
        kid = f"{o['kid']:.4f} ({o['kid_std']:.4f})" if "kid" in o else "-"
        ids = [f"{o[k]:.3f}" if k in o else "-" for k in ("u_ids", "p_ids")]
        secs = f"{seconds[name]:.2f}" if name in seconds else "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {o['lpips']:.4f} | {o['psnr']:.2f} | {o['ssim']:.4f}"
                     f" | {kid} | {ids[0]} | {ids[1]} | {secs} |")  # fmt: skip
    counts = " | ".join(str(first["buckets"][b]["count"]) for b in buckets)
    lines.append(f"| (fills) | {counts} | {first['overall']['count']} | | | | | | |")
    return lines


def grid(
    args: argparse.Namespace, images: Path, masks: Path, size: int, protocol: str, columns: list[str]
) -> Path:
    """Rows: the 4 worst and 4 median cases by the first column's LPIPS; columns: masked | each fill | truth."""
    from inpaint_lightning.captions import caption_strip
    from inpaint_lightning.data.eval_sets import resize_center_crop
    from inpaint_lightning.data.io import read_image, read_mask
    from inpaint_lightning.data.mask_pairing import pair_paths

    rows = sorted(per_image(args, size, protocol, columns[0]).items(), key=lambda r: r[1]["lpips"])
    mid = len(rows) // 2
    chosen = rows[::-1][:4] + rows[mid - 2 : mid + 2]
    pairs = {p.name: p for p in pair_paths(images, masks, seed=0)}
    tile, gap, lines = 192, 4, []
    for name, _ in chosen:
        pair = pairs[name]
        truth = resize_center_crop(read_image(pair.image), size)
        hole = read_mask(pair.mask, size=(size, size)) > 0.5
        masked = truth.copy()
        masked[hole] = 255
        cells = [masked]
        for column in columns:
            path = result_dir(args, size, protocol, column) / "outputs" / f"{name}.png"
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
    path = args.out / f"grid_{protocol}_{size}.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def ceiling(args: argparse.Namespace, size: int) -> list[str]:
    """The oracle table at ``size`` (realism_ceiling.py), headings one level down for the report; computed once
    beside the classical fills it is built from, then reused until PatchMatch's results are newer."""
    fills = result_dir(args, size, "nvidia", "patchmatch")
    path = fills.parent / "ceiling.md"
    if not path.exists() or path.stat().st_mtime < (fills / "metrics.json").stat().st_mtime:
        cmd = [
            sys.executable, str(ROOT / "benchmarks" / "realism_ceiling.py"), "--out", str(args.out),
            "--baseline-dir", str(args.baseline_dir or args.out), "--masks", str(args.masks),
            "--sizes", str(size), "--output", str(path),
        ]  # fmt: skip
        run(cmd, args.out / "ceiling.log")
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## "))  # the size's own section
    return [f"#{line}" if line.startswith("#") else line for line in lines[start:]]


def candidates(args: argparse.Namespace, ckpt: Path) -> dict[str, str]:
    """Name -> what ``evaluate --checkpoint`` and ``Inpainter.from_file`` load: the trained model, then each
    ``--candidate``."""
    found = {} if args.no_model else {"model": str(ckpt)}
    for spec in args.candidate:
        name, sep, path = spec.partition("=")
        if not sep or not name or name in BASELINES:
            sys.exit(f"error: --candidate takes NAME=CHECKPOINT with a new name, got {spec!r}")
        found[name] = path
    if not found:
        sys.exit("error: nothing to score (--no-model without --candidate)")
    return found


def loaded_by(path: str) -> list[str]:
    """``evaluate``'s flags for a fill: ``--method`` for a classical name, else ``--checkpoint``."""
    from inpaint_lightning.models.classical import BASELINES as CLASSICAL

    return ["--method", path] if path in CLASSICAL and not Path(path).exists() else ["--checkpoint", path]


def main(argv: list[str]) -> int:
    args, extra = parse_args(argv)
    if not prepare(args.out, args.photos, args.masks):
        return 2
    images = eval_split(args.photos, args.val_ratio, args.out)
    ckpt = args.out / "fit" / "ckpt" / "last.ckpt"
    if not args.skip_fit and not args.no_model:
        ckpt = fit(args, extra)
    fills = candidates(args, ckpt)
    trained = (
        "no training in this run" if args.skip_fit or args.no_model else f"{args.minutes:g} min of training"
    )
    report = [f"# Realism benchmark ({trained})", ""]
    curve = learning_curve(args.out / "fit")
    if curve and not args.no_model:
        report += ["Learning curve (validation on the held-out photos, training masks):", "",
                   "| step | val/lpips | val/psnr |", "|---:|---:|---:|"]  # fmt: skip
        report += [f"| {s} | {lp:.4f} | {ps:.2f} |" for s, lp, ps in curve] + [""]
    mask_sets = {"nvidia": args.masks, "freeform": freeform_masks(args, images)}
    seconds = {
        name: seconds_per_image(path, 512, images, mask_sets["freeform"]) for name, path in fills.items()
    }
    seconds["patchmatch"] = seconds_per_image("patchmatch", 512, images, mask_sets["freeform"])
    all_ok = True
    for protocol in args.protocols:
        masks = mask_sets[protocol]
        for size in args.sizes:
            results = {
                name: evaluate(args, images, masks, size, protocol, name, loaded_by(path))
                for name, path in fills.items()
            }
            for name in BASELINES:
                results[name] = evaluate(args, images, masks, size, protocol, name, ["--method", name])
            report += [f"## {protocol} masks, {size} px", "", *table(results, seconds), ""]
            for name in fills:
                lines, ok = verdict(args, results, size, protocol, name)
                ratio = seconds[name] / seconds["patchmatch"]
                ok &= ratio <= TIME_RATIO
                lines.append(f"- time per 512 px image {seconds[name]:.2f} s vs PatchMatch {seconds['patchmatch']:.2f}"
                             f" s: {ratio:.2f}x (at most {TIME_RATIO:g}x) {'OK' if ratio <= TIME_RATIO else 'NOT MET'}")  # fmt: skip
                all_ok &= ok
                report += [
                    f"**{name}** ({'all criteria met' if ok else 'not all criteria met'}):",
                    "",
                    *lines,
                    "",
                ]
            columns = [*fills, "telea", "patchmatch"]
            report.append(f"![grid]({grid(args, images, masks, size, protocol, columns).name})\n")
            (args.out / "realism.md").write_text("\n".join(report) + "\n")
    report.append(f"**All criteria met: {'yes' if all_ok else 'no'}**")
    (args.out / "realism.md").write_text("\n".join(report) + "\n")
    if "nvidia" in args.protocols:
        report += ["", "## What an LPIPS target asks for (oracle fills: benchmarks/realism_ceiling.py)", ""]
        for size in args.sizes:
            report += ceiling(args, size)
            (args.out / "realism.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
