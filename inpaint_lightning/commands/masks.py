"""``python -m inpaint_lightning masks``: write a fixed evaluation mask set once, from a seed.

Mask ``i`` depends only on (seed, band, i), never on the count or the machine, so the same command writes the
same files byte for byte (PNG through OpenCV at a fixed compression level), and a larger ``--count`` only adds
files. ``masks.json`` records the command, and each file's hole ratio and SHA-256 for later verification.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from inpaint_lightning.data.mask_presets import (
    BANDS,
    GENERATORS,
    PRESETS,
    BandMasks,
    band_name,
    parse_band,
    preset_masks,
)  # fmt: skip
from inpaint_lightning.errors import StartupError
from inpaint_lightning.usage import ArgumentParser, program_name

#: Bump when the drawing code changes what a seed produces; recorded in masks.json.
MASKSET_VERSION = 1


def parse_size(text: str) -> tuple[int, int]:
    """``512`` -> (512, 512); ``384x512`` -> (height 384, width 512)."""
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"size is N or HxW, got {text!r}") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < 8:
        raise argparse.ArgumentTypeError(f"size is N or HxW with sides >= 8, got {text!r}")
    return parts[0], parts[1]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=f"{program_name()} masks",
        description="Write a seeded, reproducible mask set (white = hole) to a folder.",
    )
    parser.add_argument(
        "--preset",
        required=True,
        choices=[*PRESETS, *GENERATORS, "bands"],
        help="LaMa-style strokes (thin, medium, thick), boxes, large (CoModGAN/MI-GAN-style large free-form holes, "
        "any hole ratio), or hole-ratio bands 0-10%% ... 50-60%%",
    )
    parser.add_argument(
        "--count", type=int, required=True, help="masks to write (per band with --preset bands)"
    )
    parser.add_argument("--size", type=parse_size, default=(512, 512), help="N or HxW (default 512)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True, help="folder to write (created)")
    parser.add_argument(
        "--band",
        action="append",
        type=parse_band,
        help="with --preset bands: only this band, in percent (e.g. 10-20); repeatable",
    )
    parser.add_argument("--invert", action="store_true", help="write black = hole (default white = hole)")
    parser.add_argument("--overwrite", action="store_true", help="allow writing into a non-empty folder")
    return parser


def write_masks(
    preset: str,
    count: int,
    size: tuple[int, int],
    seed: int,
    output: Path,
    bands: list[tuple[float, float]] | None = None,
    invert: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> list[dict]:
    """Write the set and its ``masks.json``; returns the per-file records."""
    if count < 1:
        raise StartupError(f"--count must be >= 1, got {count}")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise StartupError(f"--output {output} exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise StartupError(f"--output {output} is not empty (pass --overwrite to write into it)")
    output.mkdir(parents=True, exist_ok=True)
    if preset == "bands":
        jobs = [(band_name(b), b, BandMasks(*b)) for b in (bands or list(BANDS))]
    else:
        if bands:
            raise StartupError("--band only applies to --preset bands")
        jobs = [(preset, None, preset_masks(preset))]
    height, width = size
    records: list[dict] = []
    bar = tqdm(total=count * len(jobs), desc=f"masks ({preset})", disable=not progress, unit="mask")
    for label, band, source in jobs:
        band_key = 0 if band is None else round(band[0] * 100)
        for i in range(count):
            rng = np.random.default_rng([seed, band_key, i])
            mask = source(height, width, rng, index=i, train=False)
            pixels = ((1.0 - mask) if invert else mask).astype(np.uint8) * 255
            ok, encoded = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 6])
            if not ok:
                raise RuntimeError("OpenCV could not encode a PNG")
            data = encoded.tobytes()
            name = f"{label}_{i:05d}.png"
            (output / name).write_bytes(data)
            records.append(
                dict(file=name, group=label, hole_ratio=round(float(mask.mean()), 6),
                     sha256=hashlib.sha256(data).hexdigest())
            )  # fmt: skip
            bar.update()
    bar.close()
    manifest = dict(
        version=MASKSET_VERSION, preset=preset, count=count, height=height, width=width, seed=seed,
        bands=[band_name(b) for _, b, _ in jobs if b is not None], hole="black" if invert else "white",
        files=records,
    )  # fmt: skip
    (output / "masks.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return records


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    records = write_masks(
        args.preset, args.count, args.size, args.seed, args.output, args.band, args.invert, args.overwrite
    )
    ratios = np.array([r["hole_ratio"] for r in records])
    print(
        f"wrote {len(records)} masks to {args.output} (hole ratio min {ratios.min():.1%}, "
        f"median {np.median(ratios):.1%}, max {ratios.max():.1%}); manifest: {args.output / 'masks.json'}"
    )
    return 0
