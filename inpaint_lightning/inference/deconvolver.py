"""Non-blind deblurring of photos of any size: a ``deconvolve`` model and the blur kernel the photo is known to
have (a lens's point-spread function, a measured camera shake).

>>> deconvolver = Deconvolver.from_checkpoint("logs/.../last.ckpt", kernel=parse_kernel("motion:11:30"))
>>> sharp = deconvolver(Image.open("shaken.jpg"))

The photo is Wiener-deconvolved with the kernel (:func:`~inpaint_lightning.models.wiener.wiener_deconvolve`), then
corrected by the network in tiles that blend as :class:`Restorer`'s. Exports hold the network only (input: the
Wiener estimate); this class runs the Wiener stage for any backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from inpaint_lightning.inference.restorer import Restorer

#: ``--kernel`` forms besides a file: ``gaussian:SIGMA``, ``disk:RADIUS``, ``motion:LENGTH:ANGLE`` (pixels, degrees)
KERNEL_SHAPES = ("gaussian", "disk", "motion")
#: the largest kernel side the named shapes may make (the Wiener stage pads by twice the kernel)
MAX_KERNEL_SIZE = 255


def parse_kernel(text: str) -> np.ndarray:
    """A blur kernel, as OpenCV's ``filter2D`` applies it, from ``gaussian:SIGMA``, ``disk:RADIUS``,
    ``motion:LENGTH:ANGLE`` (pixels, degrees; sizes up to :data:`MAX_KERNEL_SIZE`) or a point-spread-function
    file (``.npy``, or a grayscale image read at full bit depth; odd sides): the picture of a point light, i.e. a
    convolution kernel, so it is turned 180 degrees into the correlation ``filter2D`` does. Normalised to sum 1.

    Raises:
        ValueError: a malformed description or file, even sides, a kernel summing to 0 (one line for the CLI).
    """
    from inpaint_lightning.data.degradations import disk_kernel, gaussian_kernel, motion_kernel, pad_kernels

    shape, _, params = text.partition(":")
    if shape in KERNEL_SHAPES:
        names = {"gaussian": ["SIGMA"], "disk": ["RADIUS"], "motion": ["LENGTH", "ANGLE"]}[shape]
        usage = f"kernel {text!r}: expected {shape}:{':'.join(names)}"
        try:
            values = [float(v) for v in params.split(":")]
        except ValueError:
            raise ValueError(f"{usage} (numbers)") from None
        if len(values) != len(names) or not all(np.isfinite(values)):
            raise ValueError(usage)
        if not 0 < values[0] <= MAX_KERNEL_SIZE / (6 if shape == "gaussian" else 2):
            raise ValueError(f"{usage}: {names[0]} out of range (kernels up to {MAX_KERNEL_SIZE} px)")
        if shape == "gaussian":
            kernel = gaussian_kernel(values[0])
        elif shape == "disk":
            kernel = disk_kernel(values[0])
        else:
            kernel = motion_kernel(values[0], values[1])
    else:
        kernel = _read_psf(Path(text))[::-1, ::-1]
    return pad_kernels([np.ascontiguousarray(kernel, np.float32)])[0, 0].numpy()


def _read_psf(path: Path) -> np.ndarray:
    if not path.is_file():
        raise ValueError(
            f"kernel {str(path)!r} is neither a file nor one of "
            + ", ".join(f"{s}:..." for s in KERNEL_SHAPES)
        )
    try:
        if path.suffix.lower() == ".npy":
            psf = np.load(path, allow_pickle=False)
        else:
            import cv2

            psf = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_ANYDEPTH)
    except (OSError, ValueError) as err:
        raise ValueError(f"kernel file {path}: {err}") from None
    if psf is None or psf.ndim != 2:
        raise ValueError(f"kernel file {path}: not a readable 2-D point-spread function")
    return psf.astype(np.float32)


class Deconvolver(Restorer):
    """Deblur images of any size, type and batch with a ``deconvolve`` model and a known blur ``kernel``
    (``k x k`` array with odd sides, as ``filter2D`` applies it; :func:`parse_kernel`), in overlapping tiles
    (see :class:`Restorer`; the ``from_*`` constructors take ``kernel=`` as an option).

    The Wiener stage runs once on the whole image (one FFT, on the image's device; memory like the output's),
    so the result does not depend on the tiling; only the network runs in tiles."""

    task = "deconvolve"

    def __init__(self, backend: Any, kernel: np.ndarray | Tensor, **options: Any) -> None:
        from inpaint_lightning.data.degradations import pad_kernels

        super().__init__(backend, **options)
        self.kernel = pad_kernels([np.asarray(kernel, np.float32)])

    def restore_tensor(self, image: Tensor) -> Tensor:
        from inpaint_lightning.models.wiener import wiener_deconvolve

        kernel = self.kernel.expand(image.shape[0], -1, -1, -1).to(image.device)
        return super().restore_tensor(wiener_deconvolve(image.float(), kernel))
