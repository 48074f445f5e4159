"""``python -m inpaint_lightning detect``: find old-photo damage (scratches, cracks, dust, tears, stains) with a
damage detector (``configs/tasks/damage.yaml``) and write one mask PNG per photo (white = damage), ready to edit
and to hand to ``inpaint --masks`` or ``repair --masks``.

The same folder rules as ``inpaint``: results named like the inputs, never inside an input folder, unreadable files
skipped with a warning naming them.
"""

from __future__ import annotations

import argparse

from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    from inpaint_lightning.commands._files import add_folder_arguments
    from inpaint_lightning.inference.options import add_detection_arguments, add_model_arguments

    parser = ArgumentParser(
        prog=f"{program_name()} detect",
        description="Find the damage of old photos with a damage detector and write masks (white = damage).",
    )
    add_model_arguments(parser, inpainting=False, restoration=True)
    add_detection_arguments(parser)
    add_folder_arguments(parser, "masks")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from inpaint_lightning.commands._files import map_images
    from inpaint_lightning.inference.options import detector_from_args

    return map_images(args, lambda: detector_from_args(args), "detect")
