"""``python -m inpaint_lightning inpaint``: inpaint an image or a folder of images with their masks, write PNGs.

``--images`` and ``--masks`` are each a file or a folder, paired by :func:`inpaint_lightning.data.mask_pairing.pair_paths`
(one image + one mask; one mask for a whole folder; same stem, LaMa's ``<stem>_mask*.png``, or a stable
assignment for generic mask sets); each result is ``<output>/<name>.png`` where ``name`` is the image's stem (or
the mask's, for LaMa's several masks per image), with its sub-folder and, when two inputs would share a name, its
extension (``a_png``, ``a_jpg``), so no result replaces another. ``--dilate PX`` grows every hole by PX pixels first. The output
folder must not be (or lie inside) an input folder, nor be the folder of an input file, and no result may replace
an input file, so inputs are never overwritten. Unreadable files of a folder are skipped with a warning.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from inpaint_lightning.inference.options import add_model_arguments, inpainter_from_args
from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=f"{program_name()} inpaint",
        description="Inpaint an image, or every image of a folder, with its mask (white = hole) and write PNGs.",
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--images",
        type=Path,
        required=True,
        help="an image file, or a folder of images (searched recursively)",
    )
    parser.add_argument(
        "--masks",
        type=Path,
        default=None,
        help="a mask file (for every image), or a folder of masks paired by name "
        "(default: the <stem>_mask*.png files inside the --images folder, or next to the --images file)",
    )
    parser.add_argument("--output", type=Path, required=True, help="folder for the results (created)")
    parser.add_argument(
        "--seed", type=int, default=0, help="mask order when masks are assigned, not matched by name"
    )
    parser.add_argument("--skip-existing", action="store_true", help="keep results already in --output")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from inpaint_lightning.commands._files import write_each
    from inpaint_lightning.data.io import read_image, read_mask
    from inpaint_lightning.data.mask_pairing import check_output_folder, pair_paths
    from inpaint_lightning.data.masks import fit_mask

    pairs = pair_paths(args.images, args.masks, seed=args.seed)  # first: a missing input is named as such
    check_output_folder(args.output, args.images, args.masks)
    inputs = {p.resolve() for pair in pairs for p in (pair.image, pair.mask)}
    inpainter = inpainter_from_args(args)

    def work(i: int) -> np.ndarray:
        image = read_image(pairs[i].image)
        mask = fit_mask(read_mask(pairs[i].mask, invert=args.invert_mask), image.shape[:2])
        # read_mask already applied --invert-mask: the Inpainter must not invert again, but grows the holes by
        # --dilate (its `dilate`), after the inversion.
        return inpainter(image, mask.astype(np.float32), invert_mask=False)

    names = [pair.name for pair in pairs]
    return write_each(names, args.output, inputs, work, "inpaint", args.skip_existing, args.quiet)
