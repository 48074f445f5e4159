"""Robust image and mask decoding: every file becomes RGB uint8 (or a binary mask) or a clear error.

Photos in the wild are greyscale, palette, RGBA, 16-bit, EXIF-rotated, truncated or empty. Decoding them all the
same way here is what keeps the data pipeline (and later inference) free of special cases.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inpaint_lightning import notices

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


class UnreadableImageError(OSError):
    """Raised when a file cannot be decoded as an image (corrupt, truncated, empty, not an image, too large)."""


#: What a file that is not an image raises in Pillow (the bomb error is Pillow's refusal of huge images).
_DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def pixel_limit() -> int | None:
    """Largest image decoded, in pixels: Pillow's decompression-bomb limit ``PIL.Image.MAX_IMAGE_PIXELS`` (about
    89 megapixels; a 1 MB PNG can claim 400). Raise it (or set it to None) to read larger photos."""
    return Image.MAX_IMAGE_PIXELS


def _check_size(path: Path, img: Image.Image) -> None:
    limit = pixel_limit()
    if limit is not None and img.width * img.height > limit:
        raise UnreadableImageError(
            f"{path}: {img.width}x{img.height} is {img.width * img.height / 1e6:.0f} megapixels, over the "
            f"{limit / 1e6:.0f}-megapixel limit (PIL.Image.MAX_IMAGE_PIXELS)"
        )


#: Image formats a user may well mean but that are not read (animation, HEIF/AVIF without plugins, camera raw,
#: layered or vector files): found in a folder, they are named in a warning instead of being ignored silently.
UNSUPPORTED_IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".gif", ".heic", ".heif", ".avif", ".jxl", ".svg", ".psd", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raw",
)  # fmt: skip


def list_images(root: str | Path) -> list[Path]:
    """All image files under ``root`` (recursive), sorted so that every run sees the same order.

    Files of :data:`UNSUPPORTED_IMAGE_EXTENSIONS` are left out with one warning naming them.
    """
    root = Path(root)
    files = [p for p in root.rglob("*") if p.is_file()]
    unsupported = sorted(str(p) for p in files if p.suffix.lower() in UNSUPPORTED_IMAGE_EXTENSIONS)
    if unsupported:
        shown = ", ".join(unsupported[:5]) + (" ..." if len(unsupported) > 5 else "")
        kinds = "/".join(sorted({Path(p).suffix.lower() for p in unsupported}))
        notices.warn(
            f"{len(unsupported)} file(s) under {root} not read ({kinds} is not supported; convert to PNG or "
            f"JPEG): {shown}"
        )
    return sorted(p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS)


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale integer or float pixel arrays of any bit depth to uint8."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.integer):
        # 16-bit data (the common case) maps 65535 -> 255; wider ints are scaled by their own maximum.
        top = 65535 if arr.max(initial=0) <= 65535 else int(arr.max())
        return np.clip(np.round(arr.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)
    arr = np.nan_to_num(arr.astype(np.float64))
    if arr.max(initial=0.0) > 1.0:  # float images stored in 0..255
        arr = arr / 255.0
    return np.clip(np.round(arr * 255.0), 0, 255).astype(np.uint8)


def _open(path: Path) -> Image.Image:
    try:
        size = path.stat().st_size
    except OSError as err:  # deleted or moved since it was listed (e.g. mid-fit): a bad file like any other
        raise UnreadableImageError(f"{path}: {err.strerror or err}") from err
    if size == 0:
        raise UnreadableImageError(f"{path}: empty file (0 bytes)")
    img = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit is checked below
            img = Image.open(path)
        _check_size(path, img)  # from the header, before a bomb is decompressed
        img.load()  # forces a full decode: truncated files fail here, not later in a worker
    except UnreadableImageError:
        img.close()
        raise
    except _DECODE_ERRORS as err:
        if img is not None:
            img.close()
        raise UnreadableImageError(f"{path}: {err}") from err
    with contextlib.suppress(Exception):  # broken EXIF must not cost the image
        img = ImageOps.exif_transpose(img)
    return img


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode in ("RGB",):
        return np.asarray(img, dtype=np.uint8).copy()
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "RGBa", "La"):
        # Composite over white: what a viewer shows, instead of the (arbitrary) colour under transparent pixels.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"), dtype=np.uint8).copy()
    if mode in ("L", "1"):
        grey = np.asarray(img.convert("L"), dtype=np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode.startswith("I") or mode == "F":
        # 16/32-bit greyscale: PIL's convert("RGB") clips instead of scaling, so scale ourselves.
        grey = _to_uint8(np.asarray(img))
        return np.repeat(grey[:, :, None], 3, axis=2)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()  # CMYK, YCbCr, LAB, HSV


def read_image(path: str | Path) -> np.ndarray:
    """Decode ``path`` to an ``H x W x 3`` uint8 RGB array.

    Greyscale is replicated to three channels, alpha is composited over white, palette images are expanded,
    16-bit and float images are scaled to 8 bit, and EXIF orientation is applied.

    Raises:
        UnreadableImageError: the file is empty, truncated, corrupt or not an image.
    """
    path = Path(path)
    img = _open(path)
    if img.mode in ("RGB", "RGBA") and path.suffix.lower() in (".png", ".tif", ".tiff"):
        # Pillow reads 16-bit-per-channel colour PNG/TIFF as 8-bit already; OpenCV keeps all 16 bits so the
        # rounding to 8 bit is ours and correct. Fall back to Pillow when OpenCV cannot decode the file.
        raw = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        if raw is not None and raw.dtype != np.uint8 and raw.ndim == 3:
            raw = _to_uint8(raw)
            return cv2.cvtColor(raw, cv2.COLOR_BGRA2RGB if raw.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return _pil_to_rgb(img)


def read_mask(
    path: str | Path, size: tuple[int, int] | None = None, invert: bool = False, threshold: float = 0.5
) -> np.ndarray:
    """Read a mask file as float32 ``H x W`` in {0, 1} with **1 = hole**.

    A pixel is hole when its brightest channel reaches ``threshold`` (of full scale): white, grey and *coloured*
    strokes (pure red has only 30 % luminance) are holes, black is not. Alpha-only masks use their alpha.
    ``size=(h, w)`` resizes with nearest neighbour so edges stay binary, and ``invert=True`` is for mask sets
    where black marks the hole.
    """
    path = Path(path)
    img = _open(path)
    if img.mode in ("RGBA", "LA") and np.asarray(img.convert("L")).max() == 0:
        grey = np.asarray(img.getchannel("A"))
    elif img.mode.startswith("I") or img.mode == "F":
        grey = _to_uint8(np.asarray(img))
    elif img.mode in ("L", "1"):
        grey = np.asarray(img.convert("L"))
    else:  # colour: the brightest channel, so a red or blue stroke counts like a white one
        grey = np.asarray(img.convert("RGB")).max(axis=2)
    mask = (grey.astype(np.float32) >= threshold * 255.0).astype(np.float32)
    if size is not None and mask.shape != tuple(size):
        mask = cv2.resize(mask, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
    if invert:
        mask = 1.0 - mask
    return mask


def is_readable(path: Path) -> bool:
    """True when ``path`` is a non-empty file whose header Pillow reads as an image within :func:`pixel_limit`
    (pixels are not decoded)."""
    try:
        if path.stat().st_size == 0:
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                _check_size(path, im)
    except _DECODE_ERRORS:
        return False
    return True


def filter_readable(paths: list[Path], kind: str = "image") -> list[Path]:
    """Drop files that are empty or whose header is not an image, with one warning naming them and a count.

    Only headers are checked (cheap even for large folders); a file that is truncated further in fails at load
    time and is skipped by the dataset then.
    """
    good: list[Path] = []
    bad: list[str] = []
    for p in paths:
        if is_readable(p):
            good.append(p)
        else:
            bad.append(str(p))
    if bad:
        shown = ", ".join(bad[:10]) + (" ..." if len(bad) > 10 else "")
        notices.warn(f"Skipping {len(bad)} unreadable {kind} file(s): {shown}")
    return good
