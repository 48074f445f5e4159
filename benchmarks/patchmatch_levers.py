"""How far PatchMatch-based levers can take a CPU fill on issue 28's protocols, measured against their ceilings.

    python benchmarks/patchmatch_levers.py --realism logs/realism [--checkpoint logs/realism/fit/ckpt/last.ckpt]
                                           [--guide-size 64] [--out logs/pm_levers] [--limit 45] [--radius 3]
                                           [--spread] [--skip-tune] [--skip-ceilings]

1. **Patch size, on training photos.** PatchMatch (pypatchmatch, seed 0) with each of ``--radii`` on the first
   ``--tune-photos`` photos that are not in the realism benchmark's evaluation split, on both protocols (the NVIDIA
   masks, spread evenly over the sorted files so every hole-ratio band is drawn; large free-form masks of the
   ``large`` preset drawn with seed 1, not the evaluation's seed 0) at ``--tune-sizes``. The baseline every learned
   fill is compared with must be the best PatchMatch, not its example settings.
2. **Ceilings, on the evaluation split's free-form protocol** (the first ``--limit`` fills at 256 px, or with
   ``--spread`` fills taken evenly over all photos; the masks ``realism.py`` writes, so run it first), around
   PatchMatch with patch radius ``--radius``:

   - *selection*: per fill, the best of several PatchMatch runs (seeds 0-3, and radii 1-4 at seed 0) chosen by an
     oracle that sees the hidden photo: the most a chooser (e.g. the trained discriminator picking among
     candidates) could gain;
   - *guidance*: PatchMatch whose patch search also compares a coarse layout map at the patch centres
     (pypatchmatch's ``inpaint_regularity``; its map is two wrapped coordinates, so we store two principal colour
     components of the blurred layout in [0, 0.5], where no wrap occurs), the layout taken from the hidden photo
     (the oracle: what a perfect layout model would give), from PatchMatch's own fill (is the guide itself
     neutral?), from Telea's, and from ``--checkpoint``'s fill.

Every fill's LPIPS (AlexNet, whole image, fill pasted into the hole) is written to ``OUT/*.jsonl`` as it is
measured, keyed by the fill's name and settings (a rerun measures only what is missing; a changed guide weight or
checkpoint needs a new ``--out``); ``OUT/levers_tune.md`` and ``OUT/levers_ceilings.md`` hold the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from _common import prepare

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
RADII = (1, 2, 3, 4)
SEEDS = (0, 1, 2, 3)
#: At 256 px: the oracle guide's best of weights {0.1, 0.3, 1, 3} x sigmas {2, 4, 8} px on the first 45 fills.
GUIDE_WEIGHT, GUIDE_SIGMA = 0.3, 4.0

Fill = Callable[[np.ndarray, np.ndarray], np.ndarray]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=SHARED / "photos")
    parser.add_argument("--masks", type=Path, default=SHARED / "masks_irregular")
    parser.add_argument("--realism", type=Path, default=ROOT / "logs" / "realism", help="realism.py's --out")
    parser.add_argument("--out", type=Path, default=ROOT / "logs" / "pm_levers")
    parser.add_argument("--tune-photos", type=int, default=24)
    parser.add_argument("--tune-sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--radii", type=int, nargs="+", default=list(RADII))
    parser.add_argument(
        "--radius", type=int, choices=RADII, help="the ceilings' PatchMatch (default: the shipped baseline's)"
    )
    parser.add_argument("--limit", type=int, default=45, help="evaluation fills for the ceilings")
    parser.add_argument("--spread", action="store_true", help="--limit fills evenly over all photos")
    parser.add_argument(
        "--checkpoint", help="a model whose fill guides PatchMatch (e.g. realism's last.ckpt)"
    )
    parser.add_argument("--guide-size", type=int, help="run --checkpoint at this size (a layout model)")
    parser.add_argument("--skip-tune", action="store_true")
    parser.add_argument("--skip-ceilings", action="store_true")
    return parser.parse_args(argv)


def patchmatch(radius: int, seed: int = 0, guide: np.ndarray | None = None) -> Fill:
    import patchmatch as pm

    def run(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        pm.set_random_seed(seed)
        if guide is None:
            return pm.inpaint(image, hole, patch_size=radius)
        return pm.inpaint_regularity(image, hole, guide, patch_size=radius, guide_weight=GUIDE_WEIGHT)

    return run


def layout_map(image: np.ndarray, sigma: float) -> np.ndarray:
    """The two principal colour components of ``image`` blurred by ``sigma`` px, each scaled to [0, 0.5] (1st-99th
    percentile), as the ``H x W x 3`` float32 map ``inpaint_regularity`` compares at patch centres."""
    blurred = cv2.GaussianBlur(image.astype(np.float32) / 255, (0, 0), sigma)
    flat = blurred.reshape(-1, 3)
    centred = flat - flat.mean(0)
    _, vectors = np.linalg.eigh(np.cov(centred.T))
    comps = centred @ vectors[:, ::-1][:, :2]
    low, high = np.percentile(comps, 1, axis=0), np.percentile(comps, 99, axis=0)
    comps = np.clip((comps - low) / np.maximum(high - low, 1e-6), 0, 1) * 0.5
    out = np.zeros((*image.shape[:2], 3), np.float32)
    out[..., :2] = comps.reshape(*image.shape[:2], 2)
    return out


class Scorer:
    """LPIPS (AlexNet) of a fill pasted into the hole, against the photo."""

    def __init__(self) -> None:
        import torch

        from inpaint_lightning.evaluation.metrics import PerImageLPIPS

        torch.set_num_threads(2)
        self.torch, self.lpips = torch, PerImageLPIPS()

    def __call__(self, fill: np.ndarray, image: np.ndarray, hole: np.ndarray) -> float:
        pasted = np.where(hole[..., None] > 0, fill, image)
        t = [self.torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255 for x in (pasted, image)]
        return float(self.lpips(*t)[0])


def pairs_nvidia(photos: list[Path], masks: Path, size: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    from inpaint_lightning.data.eval_sets import resize_center_crop
    from inpaint_lightning.data.io import read_image, read_mask

    files = sorted(masks.rglob("*.png"))  # spread over the sorted list: every hole-ratio band is drawn from
    return [
        (
            p.stem,
            resize_center_crop(read_image(p), size),
            read_mask(files[i * len(files) // len(photos)], (size, size)),
        )
        for i, p in enumerate(photos)
    ]


def pairs_freeform(photos: list[Path], size: int, seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    from inpaint_lightning.data.eval_sets import resize_center_crop
    from inpaint_lightning.data.io import read_image
    from inpaint_lightning.data.mask_presets import LargeMasks

    generator, rng = LargeMasks(), np.random.default_rng(seed)
    out = []
    for p in photos:
        mask = cv2.resize(generator(512, 512, rng), (size, size), interpolation=cv2.INTER_NEAREST)
        out.append((p.stem, resize_center_crop(read_image(p), size), mask))
    return out


def measure(pairs, fills: dict[str, Fill], score: Scorer, log: Path) -> dict[str, list[float]]:
    """Each fill's LPIPS per pair (and its seconds), written to ``log`` pair by pair (a rerun measures only what
    is missing)."""
    done = {}
    if log.exists():
        done = {row["name"]: row for row in map(json.loads, log.read_text().splitlines())}
    scores: dict[str, list[float]] = {name: [] for name in fills}
    for name, image, mask in pairs:
        hole = (mask > 0.5).astype(np.uint8)
        row = done.get(name, {})
        if row.get("ratio") != float(hole.mean()):  # another mask under the same name: measure again
            row = {"name": name, "ratio": float(hole.mean())}
        for fill_name, fill in fills.items():
            if fill_name not in row:
                start = time.perf_counter()
                filled = fill(image, hole)
                row[f"{fill_name}_s"] = time.perf_counter() - start
                row[fill_name] = score(filled, image, hole)
            scores[fill_name].append(row[fill_name])
        done[name] = row
        partial = log.with_suffix(".tmp")  # a run cut off mid-write keeps the previous file whole
        partial.write_text("".join(json.dumps(r) + "\n" for r in done.values()))
        os.replace(partial, log)
    return scores


def tune(args: argparse.Namespace, score: Scorer) -> list[str]:
    """Each radius of ``--radii`` on training photos, per protocol and size."""
    from inpaint_lightning.data.sources import image_folder

    held_out = {p.name for p in (args.realism / "eval_photos").iterdir()}
    train = [p for p in image_folder(args.photos).paths if p.name not in held_out][: args.tune_photos]
    lines = [f"## Patch radius on {len(train)} training photos (mean LPIPS; lower is better)", "",
             "| protocol | size | " + " | ".join(f"radius {r}" for r in args.radii) + " | best |",
             "|---|---:|" + "---:|" * (len(args.radii) + 1)]  # fmt: skip
    for protocol in ("nvidia", "freeform"):
        for size in args.tune_sizes:
            pairs = (
                pairs_nvidia(train, args.masks, size)
                if protocol == "nvidia"
                else pairs_freeform(train, size, 1)
            )
            log = args.out / f"tune_{protocol}_{size}_n{len(train)}.jsonl"
            scores = measure(pairs, {f"radius{r}": patchmatch(r) for r in args.radii}, score, log)
            means = {r: float(np.mean(scores[f"radius{r}"])) for r in args.radii}
            lines.append(f"| {protocol} | {size} | " + " | ".join(f"{means[r]:.4f}" for r in args.radii)
                         + f" | {min(means, key=means.get)} |")  # fmt: skip
            print(lines[-1], flush=True)
    return [*lines, ""]


def ceilings(args: argparse.Namespace, score: Scorer) -> list[str]:
    from inpaint_lightning.data.eval_sets import resize_center_crop
    from inpaint_lightning.data.io import read_image, read_mask
    from inpaint_lightning.models.classical import PATCHMATCH_PATCH_RADIUS

    radius = PATCHMATCH_PATCH_RADIUS if args.radius is None else args.radius
    masks = sorted((args.realism / "masks_freeform").glob("*.png"))
    if args.spread:
        masks = [
            masks[i] for i in sorted(set(np.linspace(0, len(masks) - 1, args.limit).round().astype(int)))
        ]
    masks = masks[: args.limit]
    photos = {p.stem: p for p in (args.realism / "eval_photos").iterdir()}
    pairs = [
        (
            m.stem,
            resize_center_crop(read_image(photos[m.stem.rsplit("_mask", 1)[0]]), 256),
            read_mask(m, (256, 256)),
        )
        for m in masks
    ]
    base = f"radius{radius}"
    candidates = {f"radius{r}": patchmatch(r) for r in RADII}  # seed 0
    candidates |= {f"{base} seed{s}": patchmatch(radius, s) for s in SEEDS if s}
    inpainter = None
    if args.checkpoint:
        from inpaint_lightning.inference import Inpainter

        inpainter = Inpainter.from_file(args.checkpoint, mode="full", working_size=None)

    def guided(source: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Fill:
        def run(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
            layout = np.where(hole[..., None] > 0, source(image, hole), image)
            return patchmatch(radius, guide=layout_map(layout, GUIDE_SIGMA))(image, hole)

        return run

    guides = {
        "hidden photo (oracle)": guided(lambda image, hole: image),
        "PatchMatch's own fill": guided(patchmatch(radius)),
        "Telea": guided(lambda image, hole: cv2.inpaint(image, hole, 3, cv2.INPAINT_TELEA)),
    }
    if inpainter is not None:

        def model_layout(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
            """The checkpoint's fill, at ``--guide-size`` px if given (a layout model), back at full size."""
            size = args.guide_size or image.shape[0]
            small = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
            small_hole = cv2.resize(hole.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA) > 0
            fill = np.asarray(inpainter(small, small_hole.astype(np.float32)))  # float: uint8 reads as 0-255
            return cv2.resize(fill, image.shape[1::-1], interpolation=cv2.INTER_CUBIC)

        stamp = Path(args.checkpoint).stat()  # a retrained checkpoint at the same path is another guide
        label = f"{args.checkpoint} ({stamp.st_size} B, {stamp.st_mtime:.0f})" + (
            f" at {args.guide_size} px" if args.guide_size else ""
        )
        guides[label] = guided(model_layout)
    guides = {f"{base} guide: {k}": v for k, v in guides.items()}
    scores = measure(pairs, candidates | guides, score, args.out / "ceilings.jsonl")
    ref = float(np.mean(scores[base]))
    lines = [f"## Ceilings on {len(pairs)} free-form evaluation fills at 256 px (LPIPS)", "",
             "| fill | LPIPS | vs PatchMatch |", "|---|---:|---:|",
             f"| PatchMatch (patch radius {radius}, seed 0) | {ref:.4f} | |"]  # fmt: skip
    for label, keys in (
        ("oracle's best of seeds 0-3", [base, *(f"{base} seed{s}" for s in SEEDS if s)]),
        ("oracle's best of radii 1-4", [f"radius{r}" for r in RADII]),
        ("oracle's best of all", list(candidates)),
    ):
        best = float(np.mean(np.min([scores[k] for k in keys], axis=0)))
        lines.append(f"| selection: {label} | {best:.4f} | {best / ref - 1:+.1%} |")
    for label in guides:
        mean = float(np.mean(scores[label]))
        lines.append(
            f"| guided search, layout from {label.split(': ', 1)[1]} | {mean:.4f} | {mean / ref - 1:+.1%} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    folders = [
        args.realism / "eval_photos",
        *([] if args.skip_ceilings else [args.realism / "masks_freeform"]),
    ]
    if not prepare(args.out, *([] if args.skip_tune else [args.photos, args.masks]), *folders):
        return 2
    if not args.skip_tune and not any(args.masks.rglob("*.png")):
        print(f"error: no .png masks in {args.masks}", file=sys.stderr)
        return 2
    if args.guide_size and not args.checkpoint:
        print("error: --guide-size needs --checkpoint (the model it runs)", file=sys.stderr)
        return 2
    if args.checkpoint and not args.skip_ceilings and not Path(args.checkpoint).is_file():
        print(f"error: checkpoint not found: {args.checkpoint}", file=sys.stderr)
        return 2
    score, lines = Scorer(), []
    if not args.skip_tune:
        lines += tune(args, score)
        (args.out / "levers_tune.md").write_text("\n".join(lines) + "\n")
    if not args.skip_ceilings:
        lines = ceilings(args, score)
        (args.out / "levers_ceilings.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
