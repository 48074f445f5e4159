"""``python -m inpaint_lightning restore``: restore an image or a folder of images (denoise, deblur, super-resolve,
JPEG, low light: whatever the checkpoint was trained for) and write PNGs. A non-blind deblurring (``deconvolve``)
model also takes the photos' known blur: ``--kernel motion:11:30`` (or ``gaussian:SIGMA``, ``disk:RADIUS``, a PSF
file).

The same folder rules as ``inpaint``: each result is ``<output>/<name>.png`` with the input's sub-folder (and its
extension when two inputs would share a name); the output folder must not be (or lie inside) an input folder and
no result may replace an input file; unreadable files are skipped with a warning naming them. Large images run in
overlapping tiles (``--tile``, ``--overlap``); super-resolution writes the scaled size.
"""

from __future__ import annotations

import argparse

from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    from inpaint_lightning.commands._files import add_folder_arguments
    from inpaint_lightning.inference.options import add_kernel_argument, add_model_arguments

    parser = ArgumentParser(
        prog=f"{program_name()} restore",
        description="Restore an image, or every image of a folder, with a restoration model and write PNGs.",
    )
    add_model_arguments(parser, inpainting=False, restoration=True)
    add_kernel_argument(parser)
    add_folder_arguments(parser, "results")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from inpaint_lightning.commands._files import map_images
    from inpaint_lightning.inference.options import restorer_from_args

    return map_images(args, lambda: restorer_from_args(args), "restore")
