"""``python -m inpaint_lightning restore``: restore an image or a folder of images (denoise, deblur, super-resolve,
JPEG, low light: whatever the checkpoint was trained for) and write PNGs.

The same folder rules as ``inpaint``: each result is ``<output>/<name>.png`` with the input's sub-folder (and its
extension when two inputs would share a name); the output folder must not be (or lie inside) an input folder and
no result may replace an input file; unreadable files are skipped with a warning naming them. Large images run in
overlapping tiles (``--tile``, ``--overlap``); super-resolution writes the scaled size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from inpaint_lightning import notices
from inpaint_lightning.errors import StartupError
from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    from inpaint_lightning.inference.options import add_model_arguments

    parser = ArgumentParser(
        prog=f"{program_name()} restore",
        description="Restore an image, or every image of a folder, with a restoration model and write PNGs.",
    )
    add_model_arguments(parser, inpainting=False, restoration=True)
    parser.add_argument("--images", type=Path, required=True, help="an image file, or a folder (recursive)")
    parser.add_argument("--output", type=Path, required=True, help="folder for the results (created)")
    parser.add_argument("--skip-existing", action="store_true", help="keep results already in --output")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from inpaint_lightning.data.io import UnreadableImageError, read_image
    from inpaint_lightning.data.pairs import check_output_folder, named_images
    from inpaint_lightning.inference.options import restorer_from_args

    inputs = named_images(args.images)  # first: a missing input is named as such
    check_output_folder(args.output, args.images)
    restorer = restorer_from_args(args)
    args.output.mkdir(parents=True, exist_ok=True)
    sources = {path.resolve() for _, path in inputs}
    written, skipped = 0, []
    for name, path in tqdm(inputs, desc="restore", unit="image", disable=args.quiet, file=sys.stderr):
        target = args.output / f"{name}.png"
        if target.resolve() in sources:  # e.g. through a symlinked output folder
            raise StartupError(f"refusing to overwrite input file {target}")
        if args.skip_existing and target.exists():
            continue
        try:
            image = read_image(path)
        except (UnreadableImageError, OSError) as err:
            notices.warn(f"skipping {name}: {err}")
            skipped.append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(restorer(image)).save(target)
        written += 1
    note = f" ({len(skipped)} skipped: {', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''})"
    print(f"wrote {written} image(s) to {args.output}{note if skipped else ''}", file=sys.stderr)
    return 0 if written or not inputs or args.skip_existing else 1
