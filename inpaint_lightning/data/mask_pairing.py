"""Pair images with masks, the same way for evaluation, file/folder inference and predict.

``images`` and ``masks`` may each be a file or a folder (folders are searched recursively). Rules, in order
(documented in docs/inference.md):

1. **Files.** An image file and a mask file are one pair, named after the image. An image folder and one mask
   file: that mask for every image (fitted to each by :func:`~inpaint_lightning.data.masks.fit_mask`: resized
   when the aspect ratio matches, otherwise that image is skipped with a warning). An image file and a mask folder: the masks of that image under rule 2, an error when there is none.
   An image file without masks: its ``<stem>_mask*`` files in the image's own folder.
2. **By name.** A mask belongs to an image when its stem is the image's stem (``photo.jpg`` + ``photo.png``) or
   LaMa's ``<stem>_mask*`` (``photo_mask.png``, ``photo_mask000.png``, ``photo_mask001.png``: one output per
   mask). Images and masks may share one folder; files named ``*_mask*`` are then masks, not images.
3. **Stable assignment** (two folders only). When no mask name matches any image (a generic mask set, e.g.
   irregular masks), image ``i`` of the sorted list gets mask ``order[i % M]``, where ``order`` is the sorted
   masks, or a permutation of them fixed by ``seed`` (sets sorted by hole size would otherwise give the first
   images only small holes). Same folders and seed, same pairs, on every machine.

Images without a mask under rule 2 are reported, not silently dropped.

Names (what outputs and per-image results are stored under) never collide: an image in a sub-folder of the image
folder keeps it (``x/a`` for ``x/a.png``, so ``x/a.png`` and ``y/a.png`` give ``x/a.png`` and ``y/a.png``), and
files that differ only by extension get it appended (``a.png`` + ``a.jpg`` give ``a_png`` and ``a_jpg``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from inpaint_lightning import notices
from inpaint_lightning.data.io import IMAGE_EXTENSIONS, filter_readable, is_readable, list_images
from inpaint_lightning.errors import DataNotFoundError, StartupError

_LAMA_MASK = re.compile(r"^(?P<stem>.+)_mask[^/]*$")


@dataclass(frozen=True)
class Pair:
    """An image, its mask, and the name (stem) its output and per-image results are stored under."""

    image: Path
    mask: Path
    name: str


def _is_mask_name(path: Path) -> bool:
    return _LAMA_MASK.match(path.stem) is not None


def _existing(path: str | Path, what: str) -> Path:
    found = Path(path).expanduser()
    if not found.exists():
        raise DataNotFoundError(f"{what} file or folder not found: {found}")
    return found


def _readable_file(path: Path, what: str) -> Path:
    if not is_readable(path):
        raise DataNotFoundError(f"{what} file is not a readable image: {path}")
    return path


def _masks_by_stem(mask_files: list[Path]) -> dict[str, list[Path]]:
    """Image stem -> its masks under rule 2 (same stem, or LaMa's ``<stem>_mask*``)."""
    by_stem: dict[str, list[Path]] = {}
    for m in mask_files:
        match = _LAMA_MASK.match(m.stem)
        by_stem.setdefault(match["stem"] if match else m.stem, []).append(m)
        if match:  # "a_mask.png" may also be a plain same-stem mask of an image called "a_mask"
            by_stem.setdefault(m.stem, []).append(m)
    return by_stem


def _pairs_of(image: Path, masks: list[Path]) -> list[Pair]:
    """One pair named after the image, or LaMa's several masks per image: one per mask, named after the mask."""
    if len(masks) == 1:
        return [Pair(image, masks[0], image.stem)]
    return [Pair(image, m, m.stem) for m in masks]


def pair_paths(
    images: str | Path, masks: str | Path | None = None, seed: int | None = 0, strict: bool = False
) -> list[Pair]:
    """Pairs for ``images`` and ``masks``, each a file or a folder (rules in the module docstring).

    Args:
        masks: ``None``: the ``*_mask*`` files inside the ``images`` folder, or next to the ``images`` file.
        seed: permutation of the masks under stable assignment (rule 3); None keeps their sorted order.
        strict: raise instead of warning when some images of a folder have no mask under rule 2.

    Raises:
        DataNotFoundError: a path is missing, a named file or every file of a folder is unreadable, or nothing
            can be paired.
    """
    image_path = _existing(images, "image")
    mask_path = _existing(masks, "mask") if masks is not None else None
    if image_path.is_file():
        return _pair_image_file(_readable_file(image_path, "image"), mask_path)
    if mask_path is not None and mask_path.is_file():
        pairs = _pair_mask_file(image_path, _readable_file(mask_path, "mask"))
    else:
        pairs = _pair_folders(image_path, mask_path if mask_path is not None else image_path, seed, strict)
    return unique_names(pairs, image_path)


def unique_names(pairs: list[Pair], image_root: Path) -> list[Pair]:
    """The pairs with names that cannot collide (see the module docstring), in the same order."""

    def with_folder(pair: Pair) -> str:
        try:
            folder = pair.image.parent.relative_to(image_root)
        except ValueError:
            return pair.name
        return pair.name if folder == Path(".") else f"{folder.as_posix()}/{pair.name}"

    names = [with_folder(p) for p in pairs]
    counts = Counter(names)
    names = [
        f"{n}_{p.image.suffix.lstrip('.')}" if counts[n] > 1 else n for p, n in zip(pairs, names, strict=True)
    ]
    counts, seen = Counter(names), Counter()
    unique = []
    for n in names:  # still equal (a.png + a.PNG): number them
        seen[n] += 1
        unique.append(f"{n}_{seen[n]}" if counts[n] > 1 else n)
    return [replace(p, name=n) for p, n in zip(pairs, unique, strict=True)]


def named_images(images: str | Path) -> list[tuple[str, Path]]:
    """``(name, path)`` of every readable image of a file or folder, named as pairs are (stem with its sub-folder,
    the extension added on a clash: see :func:`unique_names`); for commands without masks (``restore``).

    Raises:
        StartupError: the file or folder does not exist.
    """
    images = Path(images)
    if not images.exists():
        raise StartupError(f"image file or folder not found: {images}")
    files = filter_readable(list_images(images) if images.is_dir() else [images])
    root = images if images.is_dir() else images.parent
    return [(p.name, p.image) for p in unique_names([Pair(f, f, f.stem) for f in files], root)]


def _pair_image_file(image: Path, masks: Path | None) -> list[Pair]:
    if masks is not None and masks.is_file():
        return [Pair(image, _readable_file(masks, "mask"), image.stem)]
    if masks is None:  # "<stem>_mask*" files next to the image (not searched recursively)
        folder = image.parent
        candidates = sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and _is_mask_name(p) and p != image
        )
        expected = f"{image.stem}_mask*.png (any image extension) next to it in {folder}"
    else:
        folder = masks
        candidates = [p for p in list_images(folder) if p.resolve() != image.resolve()]
        if folder.resolve() == image.parent.resolve():  # a shared folder: only "*_mask*" files are masks
            candidates = [p for p in candidates if _is_mask_name(p)]
            expected = f"{image.stem}_mask*.png (any image extension) in {folder}"
        else:
            expected = f"{image.stem}.png or {image.stem}_mask*.png (any image extension) in {folder}"
    found = filter_readable(sorted(set(_masks_by_stem(candidates).get(image.stem, []))), kind="mask")
    if not found:
        raise DataNotFoundError(f"no mask for {image.name}: expected {expected}")
    return _pairs_of(image, found)


def _pair_mask_file(image_dir: Path, mask: Path) -> list[Pair]:
    image_files = [p for p in list_images(image_dir) if p.resolve() != mask.resolve()]
    image_files = filter_readable(image_files, kind="image")
    if not image_files:
        raise DataNotFoundError(f"no readable images in {image_dir}")
    return [Pair(img, mask, img.stem) for img in image_files]


def _pair_folders(image_dir: Path, mask_dir: Path, seed: int | None, strict: bool) -> list[Pair]:
    same_folder = image_dir.resolve() == mask_dir.resolve()
    image_files = [p for p in list_images(image_dir) if not (same_folder and _is_mask_name(p))]
    mask_files = list_images(mask_dir)
    if same_folder:
        mask_files = [p for p in mask_files if _is_mask_name(p)]
    image_files = filter_readable(image_files, kind="image")
    mask_files = filter_readable(mask_files, kind="mask")
    if not image_files:
        raise DataNotFoundError(f"no readable images in {image_dir}")
    if not mask_files:
        where = f"{mask_dir} (files named <stem>_mask*.png)" if same_folder else str(mask_dir)
        raise DataNotFoundError(f"no readable masks in {where}")

    by_stem = _masks_by_stem(mask_files)
    pairs: list[Pair] = []
    missing: list[str] = []
    for img in image_files:
        found = sorted(set(by_stem.get(img.stem, [])))
        if found:
            pairs.extend(_pairs_of(img, found))
        else:
            missing.append(img.name)
    if not pairs:  # rule 3: a generic mask set
        order = list(mask_files)
        if seed is not None:
            order = [order[i] for i in np.random.default_rng(seed).permutation(len(order))]
        if len(order) < len(image_files):
            notices.warn(
                f"{len(image_files)} images but only {len(order)} masks in {mask_dir}: masks are reused "
                f"cyclically"
            )
        return [Pair(img, order[i % len(order)], img.stem) for i, img in enumerate(image_files)]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        message = f"{len(missing)} image(s) in {image_dir} have no mask in {mask_dir}: {shown}"
        if strict:
            raise DataNotFoundError(message)
        notices.warn(message + " (skipped)")
    return pairs


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def check_output_folder(output: Path, *inputs: Path | str | None, flag: str = "--output") -> None:
    """Refuse an output that is a file, that is or lies inside an input folder, or that is the folder holding an
    input file (a result named like the input would replace it; its subfolders cannot hold the input).

    Raises:
        StartupError: naming ``flag`` (the option the user set) and the input it would overwrite.
    """
    output = Path(output).expanduser()
    for path in inputs:
        if path is None:
            continue
        path = Path(path).expanduser()
        if path.is_file():
            if output.resolve() in (path.absolute().parent.resolve(), path.resolve().parent):
                raise StartupError(
                    f"{flag} {output} is the folder of the input file {path}: choose another folder "
                    f"(inputs are never overwritten)"
                )
        elif _inside(output, path):
            raise StartupError(
                f"{flag} {output} is inside the input folder {path}: choose another folder "
                f"(inputs are never overwritten)"
            )
    if output.exists() and not output.is_dir():
        raise StartupError(f"{flag} {output} exists and is not a folder")
