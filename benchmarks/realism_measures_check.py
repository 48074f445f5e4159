"""Sanity check of the no-reference realism measures: do KID and P-IDS/U-IDS order fills known to differ?

The 66 held-out photos of the realism benchmark (``--val-ratio 0.25`` of ``--photos``, centre-cropped to
``--size``) each get ``--masks-per-photo`` large free-form holes (``masks --preset large``, seeded) and are filled
by PatchMatch, Telea and a flat fill (the known pixels' mean colour). KID is computed against a *disjoint* real
reference set (the other photos of the folder, the same crops), P-IDS/U-IDS against each fill's own original, in
the ``alexnet`` and ``random`` embeddings. The expected order is PatchMatch < Telea < flat on KID and the reverse
on U-IDS and P-IDS. Results go to ``<out>/measures.json`` and a table on stdout.

    python benchmarks/realism_measures_check.py --out runs/measures [--masks-per-photo 6 --size 256]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from inpaint_lightning.data.eval_sets import resize_center_crop
from inpaint_lightning.data.io import read_image
from inpaint_lightning.data.mask_presets import LargeMasks
from inpaint_lightning.data.sources import folder_splits
from inpaint_lightning.evaluation.distribution import DistributionMetrics
from inpaint_lightning.models.classical import baseline

ROOT = Path(__file__).resolve().parents[1]


def flat(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The known pixels' mean colour in the hole: a fill with no structure and no texture at all."""
    out = image.copy()
    hole = mask > 0.5
    out[hole] = image[~hole].mean(axis=0).round().astype(np.uint8)
    return out


def tensor(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "data" / "photos")
    parser.add_argument("--val-ratio", type=float, default=0.25)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--masks-per-photo", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    splits = folder_splits(args.photos, args.val_ratio, 0.0, 0)
    held = [resize_center_crop(read_image(p), args.size) for p in splits["val"].paths]
    reference = [resize_center_crop(read_image(p), args.size) for p in splits["train"].paths]
    masks = LargeMasks()
    rng = np.random.default_rng(args.seed)
    pairs = [
        (i, masks(args.size, args.size, rng)) for i in range(len(held)) for _ in range(args.masks_per_photo)
    ]
    print(f"{len(held)} photos x {args.masks_per_photo} masks = {len(pairs)} fills; {len(reference)} reference "
          f"photos", flush=True)  # fmt: skip
    methods = {"patchmatch": baseline("patchmatch"), "telea": baseline("telea"), "flat": flat}
    args.out.mkdir(parents=True, exist_ok=True)
    originals = tensor([held[i] for i, _ in pairs])
    references = tensor([reference[k % len(reference)] for k in range(len(pairs))])  # not the filled photos
    results: dict = {}
    for name, fill in methods.items():
        fills = tensor([fill(held[i], m) for i, m in pairs])  # once per method, scored in every embedding
        for embedding in ("alexnet", "random"):
            kid = DistributionMetrics(fid=False, kid=True, embedding=embedding, kid_subset_size=100)
            ids = DistributionMetrics(fid=False, kid=False, ids=True, embedding=embedding)
            for start in range(0, len(pairs), 32):
                part = slice(start, start + 32)
                ids.update(fills[part], originals[part])
                kid.update(fills[part], references[part])
            row = {**kid.compute(), **ids.compute()}
            results[f"{embedding}/{name}"] = row
            (args.out / "measures.json").write_text(json.dumps(results, indent=1))
            print(f"{embedding:8s} {name:10s} KID {row['kid']:.4f} ± {row['kid_std']:.4f}  P-IDS {row['p_ids']:.3f}  "
                  f"U-IDS {row['u_ids']:.3f}  (n {int(row['n'])}, IDS pairs {int(row['ids_pairs'])})", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
