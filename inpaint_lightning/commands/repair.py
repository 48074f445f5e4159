"""``python -m inpaint_lightning repair``: old-photo repair, the two tasks chained. Inpaint the damage of every
photo with an inpainting model, then restore it with a restoration model (noise, blur, fading); either model may be
left out.

The damage is what a mask marks (white = damage; images and masks pair as in ``inpaint``: one mask file for all, a
folder paired by name, ``<stem>_mask*`` files) or what a damage detector finds (``--detect-checkpoint``, trained
with ``configs/tasks/damage.yaml``; ``--save-masks`` keeps its masks to check or edit). Without
``--inpaint-checkpoint`` no mask is needed and the images are only restored. The same output rules: PNGs named like
the inputs, never inside an input folder, unreadable files skipped with a warning.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaint_lightning.errors import StartupError
from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    from inpaint_lightning.inference.options import add_detection_arguments, add_tile_arguments

    parser = ArgumentParser(
        prog=f"{program_name()} repair",
        description="Repair old photos: inpaint the damage their masks (or a damage detector) mark, then restore "
        "them.",
    )
    parser.add_argument(
        "--restore-checkpoint", help="restoration model (.ckpt, .onnx or .pt), e.g. a blind one"
    )
    parser.add_argument("--inpaint-checkpoint", help="inpainting model (.ckpt, .onnx or .pt)")
    parser.add_argument("--images", type=Path, required=True, help="an image file, or a folder (recursive)")
    parser.add_argument("--masks", type=Path, help="damage masks: a file, or a folder paired by name")
    parser.add_argument(
        "--detect-checkpoint",
        help="damage detector (.ckpt, .onnx or .pt) that finds the damage instead of --masks",
    )
    parser.add_argument(
        "--save-masks", action="store_true", help="also write the detector's masks to <output>/masks/"
    )
    parser.add_argument("--output", type=Path, required=True, help="folder for the results (created)")
    parser.add_argument("--invert-mask", action="store_true", help="masks mark damage in black")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch and ONNX Runtime)")
    parser.add_argument("--skip-existing", action="store_true", help="keep results already in --output")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_tile_arguments(parser)
    add_detection_arguments(parser)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    import numpy as np
    import torch
    from PIL import Image

    from inpaint_lightning.commands._files import write_each
    from inpaint_lightning.data.io import read_image, read_mask
    from inpaint_lightning.data.mask_pairing import check_output_folder, named_images, pair_paths
    from inpaint_lightning.inference import Inpainter
    from inpaint_lightning.inference.options import detector_from_args, restorer_from_args
    from inpaint_lightning.inference.repair import PhotoRepairer

    if not (args.restore_checkpoint or args.inpaint_checkpoint):
        raise StartupError("give --restore-checkpoint, --inpaint-checkpoint or both")
    if args.detect_checkpoint and not args.inpaint_checkpoint:
        raise StartupError(
            "--detect-checkpoint finds damage for the inpainter: give --inpaint-checkpoint too"
        )
    if args.detect_checkpoint and args.masks:
        raise StartupError("give --masks or --detect-checkpoint, not both")
    if args.inpaint_checkpoint and not args.detect_checkpoint:
        items = [(p.name, p.image, p.mask) for p in pair_paths(args.images, args.masks)]
    else:
        items = [(name, path, None) for name, path in named_images(args.images)]
    check_output_folder(args.output, args.images, args.masks)
    if args.threads:
        torch.set_num_threads(args.threads)
    restorer = inpainter = None
    if args.restore_checkpoint:
        restorer = restorer_from_args(args, args.restore_checkpoint)
    if args.inpaint_checkpoint:
        inpainter = Inpainter.from_file(args.inpaint_checkpoint, device=args.device, threads=args.threads)
    detector = None
    if args.detect_checkpoint:
        detector = detector_from_args(args, args.detect_checkpoint)
    # The damage is detected below (not by the repairer), where --save-masks can keep it.
    repairer = PhotoRepairer(restorer, inpainter)
    sources = {p.resolve() for _, image, mask in items for p in (image, mask) if p is not None}

    def work(i: int) -> np.ndarray:
        _, image_path, mask_path = items[i]
        image = read_image(image_path)
        if detector is None:
            damage = read_mask(mask_path, invert=args.invert_mask) if mask_path is not None else None
        else:
            damage = detector(image)
            if args.save_masks:
                target = args.output / "masks" / f"{names[i]}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(damage).save(target)
        return repairer(image, damage)

    names = [name for name, _, _ in items]
    return write_each(names, args.output, sources, work, "repair", args.skip_existing, args.quiet)
