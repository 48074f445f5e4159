"""Non-blind deblurring of photos of any size: a ``deconvolve`` model and the blur kernel the photo is known to
have (a lens's point-spread function, a measured camera shake).

>>> deconvolver = Deconvolver.from_checkpoint("logs/.../last.ckpt", kernel=parse_kernel("motion:11:30"))
>>> sharp = deconvolver(Image.open("shaken.jpg"))

Each tile is Wiener-deconvolved with the kernel (:func:`~inpaint_lightning.models.wiener.wiener_deconvolve`), as
the training crops were, then corrected by the network; tiles blend as :class:`Restorer`'s. Exports hold the
network only (input: the Wiener estimate); this class runs the Wiener stage for any backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from inpaint_lightning.inference.restorer import Restorer

#: ``--kernel`` forms besides a file: ``gaussian:SIGMA``, ``disk:RADIUS``, ``motion:LENGTH:ANGLE`` (pixels, degrees)
KERNEL_SHAPES = ("gaussian", "disk", "motion")


def parse_kernel(text: str) -> np.ndarray:
    """A blur kernel from ``gaussian:SIGMA``, ``disk:RADIUS``, ``motion:LENGTH:ANGLE`` or a file (``.npy``, or a
    grayscale image of the point-spread function, odd sides); normalised to sum 1.

    Raises:
        ValueError: a malformed description, a missing or unreadable file, even sides, a kernel summing to 0.
    """
    from inpaint_lightning.data.degradations import GaussianBlur, disk_kernel, motion_kernel, pad_kernels

    shape, _, params = text.partition(":")
    if shape in KERNEL_SHAPES:
        try:
            values = [float(v) for v in params.split(":")]
        except ValueError:
            raise ValueError(f"kernel {text!r}: parameters must be numbers") from None
        wanted = {"gaussian": 1, "disk": 1, "motion": 2}[shape]
        if len(values) != wanted or values[0] <= 0:
            raise ValueError(
                f"kernel {text!r}: expected {shape}:" + ":".join(["SIZE", "ANGLE"][:wanted]) + " > 0"
            )
        if shape == "gaussian":
            kernel = GaussianBlur(values[0]).blur_kernel(np.random.default_rng(0))
        elif shape == "disk":
            kernel = disk_kernel(values[0])
        else:
            kernel = motion_kernel(values[0], values[1])
    else:
        path = Path(text)
        if not path.is_file():
            raise ValueError(
                f"kernel {text!r} is neither a file nor one of "
                + ", ".join(f"{s}:..." for s in KERNEL_SHAPES)
            )
        if path.suffix.lower() == ".npy":
            kernel = np.load(path, allow_pickle=False)
        else:
            from inpaint_lightning.data.io import read_image

            kernel = read_image(path).astype(np.float32).mean(axis=-1)
    return pad_kernels([np.asarray(kernel, np.float32)])[0, 0].numpy()


class Deconvolver(Restorer):
    """Deblur images of any size, type and batch with a ``deconvolve`` model and a known blur ``kernel``
    (``k x k`` array, odd sides; :func:`parse_kernel`), in overlapping tiles (see :class:`Restorer`; the
    ``from_*`` constructors take ``kernel=`` as an option)."""

    task = "deconvolve"

    def __init__(self, backend: Any, kernel: np.ndarray | Tensor, **options: Any) -> None:
        from inpaint_lightning.data.degradations import pad_kernels

        super().__init__(backend, **options)
        self.kernel = pad_kernels([np.asarray(kernel, np.float32)])

    def _run(self, image: Tensor) -> Tensor:
        from inpaint_lightning.models.wiener import wiener_deconvolve

        kernel = self.kernel.expand(image.shape[0], -1, -1, -1).to(image.device)
        return super()._run(wiener_deconvolve(image, kernel))
