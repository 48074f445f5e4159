"""``python -m inpaint_lightning degrade``: make restoration pairs from clean photos, reproducibly.

Each image of ``--images`` (a file or a folder, recursive) gives ``<output>/gt/<name>.png`` (the clean photo,
cropped at the bottom/right to a multiple of the preset's scale so LQ and GT align exactly) and
``<output>/lq/<name>.png`` (degraded by :func:`inpaint_lightning.data.degradations.preset`). The degradation of
a file is seeded by ``--seed`` and the file's name, not its position, so adding photos changes no existing pair.
``pairs.json`` records the command, preset and scale. Unreadable files are skipped with a warning naming them;
the output folder may not be an input folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from inpaint_lightning import notices
from inpaint_lightning.data.degradations import PRESETS, preset
from inpaint_lightning.data.io import UnreadableImageError, filter_readable, list_images, read_image
from inpaint_lightning.data.mask_pairing import Pair, check_output_folder, unique_names
from inpaint_lightning.errors import DataNotFoundError
from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=f"{program_name()} degrade",
        description="Degrade clean photos into seeded restoration pairs (lq/ and gt/ folders).",
    )
    parser.add_argument("--images", type=Path, required=True, help="a clean image, or a folder (recursive)")
    parser.add_argument("--preset", required=True, choices=PRESETS, help="what to do to them")
    parser.add_argument("--output", type=Path, required=True, help="folder for lq/, gt/ and pairs.json")
    parser.add_argument("--seed", type=int, default=0, help="with each file's name, fixes its degradation")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def sample_seed(seed: int, name: str) -> list[int]:
    """A per-file seed from ``seed`` and the file's name (stable across machines and folder contents)."""
    return [seed, int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")]


def _write(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if not args.images.exists():
        raise DataNotFoundError(f"image file or folder not found: {args.images}")
    check_output_folder(args.output, args.images)
    root = args.images if args.images.is_dir() else args.images.parent
    files = filter_readable(list_images(args.images) if args.images.is_dir() else [args.images])
    if not files:
        raise DataNotFoundError(f"no readable images in {args.images}")
    degradation = preset(args.preset)
    scale = degradation.scale
    pairs = unique_names([Pair(p, p, p.stem) for p in files], root)
    written = 0
    for pair in tqdm(pairs, desc=f"degrade {args.preset}", unit="image", disable=args.quiet, file=sys.stderr):
        try:
            clean = read_image(pair.image).astype(np.float32) / 255.0
        except UnreadableImageError as err:
            notices.warn(f"skipping {pair.name}: {err}")
            continue
        h, w = (clean.shape[0] // scale) * scale, (clean.shape[1] // scale) * scale
        if min(h, w) < 8 * scale:
            notices.warn(f"skipping {pair.name}: smaller than {8 * scale} px")
            continue
        clean = clean[:h, :w]
        low = degradation(clean, np.random.default_rng(sample_seed(args.seed, pair.name)))
        _write(args.output / "gt" / f"{pair.name}.png", clean)
        _write(args.output / "lq" / f"{pair.name}.png", low)
        written += 1
    meta = {
        "images": str(args.images),
        "preset": args.preset,
        "scale": scale,
        "seed": args.seed,
        "pairs": written,
    }
    (args.output / "pairs.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(
        f"wrote {written} pair(s) to {args.output}/lq and {args.output}/gt (scale {scale})", file=sys.stderr
    )
    return 0 if written else 1
