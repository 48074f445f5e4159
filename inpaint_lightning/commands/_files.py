"""The loop the file commands share (``inpaint``, ``restore``, ``detect``, ``repair``): one PNG per input under ``--output``,
never over an input file, ``--skip-existing``, unreadable inputs skipped with a warning naming them, a progress
bar, and one closing line with the true count."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from inpaint_lightning import notices
from inpaint_lightning.data.io import UnreadableImageError
from inpaint_lightning.data.masks import MaskSizeError
from inpaint_lightning.errors import StartupError

#: What makes one input unusable (skipped with a warning) rather than the run: unreadable files, a mask of
#: another aspect ratio, a missing mask.
SKIPPED_ERRORS = (UnreadableImageError, OSError, MaskSizeError, ValueError)


def write_each(
    names: Iterable[str],
    output: Path,
    inputs: set[Path],
    work: Callable[[int], np.ndarray],
    desc: str,
    skip_existing: bool = False,
    quiet: bool = False,
) -> int:
    """``work(i)`` for the ``i``-th name, saved as ``<output>/<name>.png``; returns the exit status (1 when nothing
    could be written although there was something to do)."""
    names = list(names)
    output.mkdir(parents=True, exist_ok=True)
    written, skipped = 0, []
    for i, name in enumerate(tqdm(names, desc=desc, unit="image", disable=quiet, file=sys.stderr)):
        target = output / f"{name}.png"
        if target.resolve() in inputs:  # e.g. through a symlinked output folder
            raise StartupError(f"refusing to overwrite input file {target}")
        if skip_existing and target.exists():
            continue
        try:
            result = work(i)
        except SKIPPED_ERRORS as err:
            notices.warn(f"skipping {name}: {err}")
            skipped.append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)  # names keep input sub-folders
        Image.fromarray(result).save(target)
        written += 1
    note = f" ({len(skipped)} skipped: {', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''})"
    print(f"wrote {written} image(s) to {output}{note if skipped else ''}", file=sys.stderr)
    return 0 if written or not names or skip_existing else 1


def add_folder_arguments(parser: argparse.ArgumentParser, results: str = "results") -> None:
    """``--images``, ``--output``, ``--skip-existing`` and ``--quiet`` of a command mapping images to PNGs."""
    parser.add_argument("--images", type=Path, required=True, help="an image file, or a folder (recursive)")
    parser.add_argument("--output", type=Path, required=True, help=f"folder for the {results} (created)")
    parser.add_argument("--skip-existing", action="store_true", help=f"keep {results} already in --output")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def map_images(
    args: argparse.Namespace, build: Callable[[], Callable[[np.ndarray], np.ndarray]], desc: str
) -> int:
    """Run the model ``build()`` returns on every image of ``--images`` into ``--output`` (:func:`write_each`).

    The inputs are listed and the output folder checked before the model is built, so a wrong path fails in a
    second, not after loading weights."""
    from inpaint_lightning.data.io import read_image
    from inpaint_lightning.data.mask_pairing import check_output_folder, named_images

    inputs = named_images(args.images)  # first: a missing input is named as such
    check_output_folder(args.output, args.images)
    model = build()
    sources = {path.resolve() for _, path in inputs}
    names = [name for name, _ in inputs]
    return write_each(
        names,
        args.output,
        sources,
        lambda i: model(read_image(inputs[i][1])),
        desc,
        args.skip_existing,
        args.quiet,
    )
