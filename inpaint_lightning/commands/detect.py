"""``python -m inpaint_lightning detect``: find old-photo damage (scratches, cracks, dust, tears, stains) with a
damage detector (``configs/tasks/damage.yaml``) and write one mask PNG per photo (white = damage), ready to edit
and to hand to ``inpaint --masks`` or ``repair --masks``.

The same folder rules as ``inpaint``: results named like the inputs, never inside an input folder, unreadable files
skipped with a warning naming them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    from inpaint_lightning.inference.options import add_detection_arguments, add_model_arguments

    parser = ArgumentParser(
        prog=f"{program_name()} detect",
        description="Find the damage of old photos with a damage detector and write masks (white = damage).",
    )
    add_model_arguments(parser, inpainting=False, restoration=True)
    add_detection_arguments(parser)
    parser.add_argument("--images", type=Path, required=True, help="an image file, or a folder (recursive)")
    parser.add_argument("--output", type=Path, required=True, help="folder for the masks (created)")
    parser.add_argument("--skip-existing", action="store_true", help="keep masks already in --output")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from inpaint_lightning.commands._files import write_each
    from inpaint_lightning.data.io import read_image
    from inpaint_lightning.data.pairs import check_output_folder, named_images
    from inpaint_lightning.inference.options import detector_from_args

    inputs = named_images(args.images)
    check_output_folder(args.output, args.images)
    detector = detector_from_args(args)
    sources = {path.resolve() for _, path in inputs}
    names = [name for name, _ in inputs]
    return write_each(
        names, args.output, sources, lambda i: detector(read_image(inputs[i][1])), "detect",
        args.skip_existing, args.quiet,
    )  # fmt: skip
