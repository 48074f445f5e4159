"""``python -m inpaint_lightning restore``: restore an image or a folder of images (denoise, deblur, super-resolve,
JPEG, low light: whatever the checkpoint was trained for) and write PNGs.

The same folder rules as ``inpaint``: each result is ``<output>/<name>.png`` with the input's sub-folder (and its
extension when two inputs would share a name); the output folder must not be (or lie inside) an input folder and
no result may replace an input file; unreadable files are skipped with a warning naming them. Large images run in
overlapping tiles (``--tile``, ``--overlap``); super-resolution writes the scaled size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
    from inpaint_lightning.commands._files import write_each
    from inpaint_lightning.data.io import read_image
    from inpaint_lightning.data.pairs import check_output_folder, named_images
    from inpaint_lightning.inference.options import restorer_from_args

    inputs = named_images(args.images)  # first: a missing input is named as such
    check_output_folder(args.output, args.images)
    restorer = restorer_from_args(args)
    sources = {path.resolve() for _, path in inputs}
    names = [name for name, _ in inputs]
    return write_each(
        names, args.output, sources, lambda i: restorer(read_image(inputs[i][1])), "restore",
        args.skip_existing, args.quiet,
    )  # fmt: skip
