"""What LPIPS the realism target asks for: oracle fills built from the ground truth, scored like ``evaluate``.

    python benchmarks/realism_ceiling.py [--out logs/realism] [--baseline-dir DIR] [--sizes 256 512] [--output FILE]

``benchmarks/realism.py`` runs it at the end of the benchmark (once per size and mask set: like the classical fills,
it does not depend on the model). It reads what that leaves in ``OUT`` (the held-out
photos in ``eval_photos/``) and in ``--baseline-dir`` (default ``OUT``; PatchMatch's saved fills in
``eval_<size>/patchmatch/outputs/``) and scores, on the same photo/mask pairs and with the same
composite and LPIPS (AlexNet), fills that no method can produce because they use the hidden pixels:

- ``truth low (s)``: the ground truth blurred by a Gaussian of sigma ``s`` (perfect colours and layout, no texture);
- ``truth low (s) + PatchMatch high``: that, plus PatchMatch's own detail (its fill minus its blur) -- a perfect
  "structure" network with PatchMatch's copied texture on top, the best a hybrid with PatchMatch's texture gets;
- ``truth low (s) + truth high shifted d px down and right``: the photo's own detail, displaced by ``d`` pixels
  down and ``d`` right (``d * sqrt(2)`` diagonally; wrapping round at the borders): exactly the right texture, only
  not in phase with the hidden one.

The table shows where ``1 - target`` (the issue's 15 % below PatchMatch) sits among them, overall and in the
hole-ratio buckets, and is written to ``--output`` (default ``OUT/ceiling.md``).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from inpaint_lightning.data.eval_sets import EvalPairs
from inpaint_lightning.data.mask_pairing import pair_paths
from inpaint_lightning.evaluation.metrics import PerImageLPIPS, bucket_of, hole_ratio

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TARGET_GAIN = 0.15

Fill = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (truth, patchmatch) H x W x 3 float -> fill


def low(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def oracles() -> dict[str, Fill]:
    """The oracle fills, by label (PatchMatch itself first, as the reference)."""
    fills: dict[str, Fill] = {"PatchMatch": lambda t, p: p}
    for s in (2, 4, 8):
        fills[f"truth low ({s})"] = lambda t, p, s=s: low(t, s)
        fills[f"truth low ({s}) + PatchMatch high"] = lambda t, p, s=s: low(t, s) + p - low(p, s)
    for s in (2, 4):
        for d in (4, 8, 16):
            fills[f"truth low ({s}) + truth high shifted {d} px down and right"] = lambda t, p, s=s, d=d: (
                low(t, s) + np.roll(t - low(t, s), (d, d), axis=(0, 1))
            )
    return fills


def score(
    photos: Path, masks: Path, patchmatch: Path, size: int, lpips: PerImageLPIPS
) -> tuple[dict[str, dict[str, list[float]]], int]:
    """LPIPS per oracle and bucket (plus ``all``) over the pairs ``evaluate`` scored (``patchmatch``: its saved
    fills at ``size``); and the image count."""
    data = EvalPairs(pair_paths(photos, masks, seed=0), size=size, predictions=patchmatch)
    fills = oracles()
    values: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in fills}
    count = 0
    for i in range(len(data)):
        sample = data[i]
        if sample is None:
            continue
        count += 1
        target, mask = sample["target"], sample["mask"]
        truth, pm = (x.permute(1, 2, 0).numpy() for x in (target, sample["prediction"]))
        bucket = bucket_of(float(hole_ratio(mask[None])[0]))
        for name, fill in fills.items():
            filled = torch.from_numpy(np.clip(fill(truth, pm), 0, 1)).permute(2, 0, 1)
            composite = (mask * filled + (1 - mask) * target)[None]
            v = float(lpips(composite, target[None])[0])
            values[name][bucket].append(v)
            values[name]["all"].append(v)
    return values, count


def table(values: dict[str, dict[str, list[float]]]) -> list[str]:
    buckets = sorted(values["PatchMatch"], key=lambda b: (b == "all", b))
    target = {b: (1 - TARGET_GAIN) * np.mean(values["PatchMatch"][b]) for b in buckets}
    lines = [
        "| fill | " + " | ".join(buckets) + " |",
        "|---|" + "---:|" * len(buckets),
        "| **target** (15 % below PatchMatch) | "
        + " | ".join(f"**{target[b]:.4f}**" for b in buckets)
        + " |",
    ]
    for name, per in values.items():
        cells = [f"{np.mean(per[b]):.4f}" + (" ✓" if np.mean(per[b]) <= target[b] else "") for b in buckets]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| (images) | " + " | ".join(str(len(values["PatchMatch"][b])) for b in buckets) + " |")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "logs" / "realism", help="a realism.py output folder"
    )
    parser.add_argument(
        "--baseline-dir", type=Path, help="where realism.py kept PatchMatch's fills (default --out)"
    )
    parser.add_argument(
        "--masks", type=Path, default=SHARED / "masks_irregular", help="as given to realism.py"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--output", type=Path, help="the Markdown table (default OUT/ceiling.md)")
    args = parser.parse_args(argv)
    output = args.output or args.out / "ceiling.md"
    torch.set_num_threads(2)
    lpips = PerImageLPIPS("alex")
    report = ["# What the realism target asks for (oracle fills, LPIPS AlexNet, lower is better)", "",
              "✓ = at or below the target (15 % below PatchMatch in that column).", ""]  # fmt: skip
    for size in args.sizes:
        patchmatch = (args.baseline_dir or args.out) / f"eval_{size}" / "patchmatch" / "outputs"
        if not patchmatch.is_dir():
            print(
                f"error: no PatchMatch outputs at {size} px: {patchmatch} (run benchmarks/realism.py)",
                file=sys.stderr,
            )
            return 2
        values, count = score(args.out / "eval_photos", args.masks, patchmatch, size, lpips)
        report += [f"## {size} px ({count} photos)", "", *table(values), ""]
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
