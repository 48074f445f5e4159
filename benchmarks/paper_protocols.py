"""Restoration on the papers' test protocols and on real camera noise, beside published figures (issue 29).

    python benchmarks/paper_protocols.py [--minutes 15] [--arms denoise denoise_gaussian sr_x4] [--out logs/paper]
                                         [--skip-fit] [fit flags ...]

1. Test sets, never trained on: CBSD68 (``bsds_*``, 68 photos) and Set14 (``set14_*``, 14) from ``--photos``, kept
   out of training with ``data.exclude``; the real-noise pairs in ``--real-noise`` (``clean/`` + ``noisy/``, PolyU,
   75 crops), which no arm trains on.
2. ``fit`` each arm on the other photos for ``--minutes`` of wall clock (``denoise``: ``configs/tasks/denoise.yaml``
   as shipped, camera-pipeline and Gaussian noise; ``denoise_gaussian``: the same with the previous default
   degradation, Gaussian only; ``sr_x4``: ``configs/tasks/sr_x4.yaml``'s pixel stage, its warm-up kept for the whole
   budget, at the pixel stage's constant rate: RRDB-PSNR, the figure it is compared with, is the PSNR-oriented model
   that ESRGAN's GAN stage starts from). The last EMA generator is scored.
3. ``evaluate``: real noise (PSNR, LPIPS; the centre 256 px of each crop, since BM3D takes ~30 s per 512 px crop
   on 2 CPU cores) against the noisy input, non-local means and BM3D (blind: sigma estimated); CBSD68 at full size, colour, AWGN sigma 15/25/50 added in float with seed 0, no clipping or
   rounding (the DnCNN/FFDNet test), against non-local means; Set14 x4 at full size (cropped to a multiple of 4),
   LR by antialiased bicubic (a = -0.5, PIL/MATLAB's kernel), PSNR-Y/SSIM-Y with 4 border pixels cropped, against
   bicubic up-scaling.
4. ``OUT/report.md``: our tables, the published figures beside them with their sources, and the issue's criteria.
   Files are written as stages finish.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _common import ROOT, fit_for, prepare, run
from restoration_check import HELD_OUT, table

SHARED = ROOT.parent / "shared" / "data"
ARMS: dict[str, dict] = {
    "denoise": {"config": "denoise", "crop": 64, "flags": []},
    "denoise_gaussian": {
        "config": "denoise", "crop": 64, "flags": ["--data.corruption.init_args.degradation", "denoise"],
    },
    "sr_x4": {
        "config": "sr_x4", "crop": 96,
        "flags": ["--model.loss.init_args.pixel_warmup", "1000000", "--model.g_scheduler", "null"],
    },
}  # fmt: skip
#: CBSD68 colour AWGN PSNR at sigma 15 / 25 / 50 (as tabulated in Zhang et al. 2021, DRUNet, Table 3).
PUBLISHED_CBSD68 = {
    "CBM3D": (33.52, 30.71, 27.38),
    "DnCNN (CDnCNN-B, Zhang et al. 2017)": (33.90, 31.24, 27.95),
    "FFDNet (Zhang et al. 2018)": (33.87, 31.21, 27.96),
    "DRUNet (Zhang et al. 2021)": (34.30, 31.69, 28.51),
}
#: Set14 x4 PSNR-Y / SSIM-Y (bicubic LR; SRCNN and EDSR-baseline from Lim et al. 2017, EDSR, Table 3;
#: RRDB-PSNR from Wang et al. 2018, ESRGAN, its PSNR-oriented RRDB).
PUBLISHED_SET14 = {
    "Bicubic": (26.00, 0.7027),
    "SRCNN (Dong et al. 2014)": (27.50, 0.7513),
    "EDSR-baseline (Lim et al. 2017)": (28.58, 0.7813),
    "RRDB-PSNR (Wang et al. 2018)": (28.99, 0.7917),
}


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS))
    parser.add_argument("--minutes", type=float, default=15.0, help="training wall-clock budget per arm")
    parser.add_argument("--photos", type=Path, default=SHARED / "photos")
    parser.add_argument("--real-noise", type=Path, default=SHARED / "real_noise_polyu")
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "paper")
    parser.add_argument("--skip-fit", action="store_true", help="score OUT/<arm>/fit/ckpt/last.ckpt as it is")
    return parser.parse_known_args(argv)


def link_set(photos: Path, pattern: str, folder: Path) -> Path:
    """``folder`` with links to ``photos/pattern``: one test set as its own image folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(photos.glob(pattern)):
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path.resolve())
    return folder


def evaluate(args: argparse.Namespace, protocol: str, name: str, source: list[str], what: list[str]) -> dict:
    """``evaluate`` ``name`` (``what``: --checkpoint or --method) on ``source`` (the protocol's data flags);
    baselines are kept between runs."""
    out = args.out / "eval" / protocol / name
    result = out / "metrics.json"
    if "--method" in what and result.exists():
        return json.loads(result.read_text())
    cmd = [
        sys.executable,
        "-m",
        "inpaint_lightning",
        "evaluate",
        *source,
        "--output",
        str(out),
        "--quiet",
        *what,
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    run(cmd, out.parent / f"{name}.log")
    return json.loads(result.read_text())


def fit(args: argparse.Namespace, arm: str, extra: list[str]) -> Path:
    spec, fit_dir = ARMS[arm], args.out / arm / "fit"
    if args.skip_fit:
        return fit_dir / "ckpt" / "last.ckpt"
    config = str(ROOT / "configs" / "tasks" / f"{spec['config']}.yaml")
    flags = ["--data.image_size", str(spec["crop"]), "--data.exclude", json.dumps(HELD_OUT), *spec["flags"]]
    return fit_for([config], args.photos, 0.1, args.minutes, fit_dir, [*flags, *extra])


def denoise_report(args: argparse.Namespace, arms: dict[str, Path], sets: dict[str, Path]) -> list[str]:
    real = [
        "--images",
        str(args.real_noise / "clean"),
        "--lq",
        str(args.real_noise / "noisy"),
        "--size",
        "256",
    ]
    awgn = ["--images", str(sets["cbsd68"]), "--degradation", "awgn15", "awgn25", "awgn50"]
    lines = ["## Real camera noise (PolyU: the centre 256 px of 75 crops; no arm trains on them)", ""]
    results = {a: evaluate(args, "real", a, real, ["--checkpoint", str(c)]) for a, c in arms.items()}
    for method in ("identity", "nlm", "bm3d"):
        results[method] = evaluate(args, "real", method, real, ["--method", method])
    lines += [*table(results), ""]
    for arm in arms:
        ours = results[arm]["overall"]
        for method in ("nlm", "bm3d"):
            theirs = results[method]["overall"]
            ok = ours["psnr"] > theirs["psnr"] and ours["lpips"] < theirs["lpips"]
            lines.append(f"- {arm} vs {method}: PSNR {ours['psnr'] - theirs['psnr']:+.2f} dB, LPIPS "
                         f"{1 - ours['lpips'] / theirs['lpips']:+.1%} lower: {'OK' if ok else 'NOT MET'}")  # fmt: skip
    lines += ["", "## CBSD68, AWGN in float (68 photos at full size, seed 0, no clipping or rounding)", ""]
    cbsd = {a: evaluate(args, "cbsd68", a, awgn, ["--checkpoint", str(c)]) for a, c in arms.items()}
    cbsd["nlm"] = evaluate(args, "cbsd68", "nlm", awgn, ["--method", "nlm"])
    lines += [*table(cbsd), "", "Published PSNR (RGB) on the same protocol, sigma 15 / 25 / 50:", ""]
    lines += ["| method | 15 | 25 | 50 |", "|---|---:|---:|---:|"]
    for arm in arms:
        cells = " | ".join(f"{cbsd[arm]['buckets'][f'awgn{s}']['psnr']:.2f}" for s in (15, 25, 50))
        lines.append(f"| **{arm} (this run, {args.minutes:g} CPU min)** | {cells} |")
    lines += [
        f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |"
        for name, values in PUBLISHED_CBSD68.items()
    ]
    if {"denoise", "denoise_gaussian"} <= arms.keys():
        for sigma in (25, 50):
            d = (
                cbsd["denoise"]["buckets"][f"awgn{sigma}"]["psnr"]
                - cbsd["denoise_gaussian"]["buckets"][f"awgn{sigma}"]["psnr"]
            )
            lines.append(f"- sigma {sigma}: denoise (camera + Gaussian) vs Gaussian only: {d:+.2f} dB "
                         f"(no worse: {'OK' if d >= -0.05 else 'NOT MET'})")  # fmt: skip
    return [*lines, ""]


def sr_report(args: argparse.Namespace, ckpt: Path, sets: dict[str, Path]) -> list[str]:
    source = ["--images", str(sets["set14"]), "--degradation", "sr_x4"]
    results = {
        "sr_x4": evaluate(args, "set14", "sr_x4", source, ["--checkpoint", str(ckpt)]),
        "bicubic": evaluate(args, "set14", "bicubic", source, ["--method", "bicubic"]),
    }
    lines = [
        "## Set14 x4 (14 images at full size, PSNR-Y/SSIM-Y, 4 border pixels cropped)",
        "",
        *table(results),
        "",
    ]
    lines += ["| method | PSNR-Y | SSIM-Y |", "|---|---:|---:|"]
    for name in results:
        o = results[name]["overall"]
        lines.append(f"| **{name} (this run)** | {o['psnr_y']:.2f} | {o['ssim_y']:.4f} |")
    lines += [f"| {name} | {p:.2f} | {s:.4f} |" for name, (p, s) in PUBLISHED_SET14.items()]
    ours, bic = results["sr_x4"]["overall"], results["bicubic"]["overall"]
    gap = ours["psnr_y"] - PUBLISHED_SET14["RRDB-PSNR (Wang et al. 2018)"][0]
    lines.append(
        f"- PSNR-Y {gap:+.3f} dB from RRDB-PSNR (target within 1 dB): {'OK' if gap >= -1 else 'NOT MET'}"
    )
    lines.append(f"- LPIPS {ours['lpips']:.4f} vs bicubic {bic['lpips']:.4f}: "
                 f"{'OK' if ours['lpips'] < bic['lpips'] else 'NOT MET'}")  # fmt: skip
    return [*lines, ""]


def main(argv: list[str]) -> int:
    args, extra = parse_args(argv)
    if not prepare(args.out, args.photos, args.real_noise / "clean", args.real_noise / "noisy"):
        return 2
    sets = {
        "cbsd68": link_set(args.photos, "bsds_*", args.out / "cbsd68"),
        "set14": link_set(args.photos, "set14_*", args.out / "set14"),
    }
    report = [f"# Paper protocols and real noise ({args.minutes:g} CPU minutes per arm)", ""]
    denoisers = {a: fit(args, a, extra) for a in args.arms if ARMS[a]["config"] == "denoise"}
    if denoisers:
        report += denoise_report(args, denoisers, sets)
        (args.out / "report.md").write_text("\n".join(report) + "\n")
    if "sr_x4" in args.arms:
        report += sr_report(args, fit(args, "sr_x4", extra), sets)
    (args.out / "report.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
