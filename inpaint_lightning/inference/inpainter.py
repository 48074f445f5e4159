"""Inpaint photos of any size with a trained generator (PyTorch, TorchScript or ONNX Runtime).

>>> inpainter = Inpainter.from_checkpoint("last")   # the newest run's last.ckpt under ./logs; EMA weights
>>> result = inpainter(Image.open("photo.jpg"), Image.open("mask.png"))   # a PIL image of the same size

``mode="crop"`` (default) runs the network only on windows around the holes (bounding box plus a context margin),
each resized down to ``working_size`` when larger, and pastes the hole back; ``mode="full"`` runs the whole image
at its own resolution. Either way known pixels are returned unchanged and the output has the input's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from inpaint_lightning.composite import composite
from inpaint_lightning.data.masks import dilate_holes, fit_mask
from inpaint_lightning.errors import NonFiniteOutputError
from inpaint_lightning.inference.backends import with_prefill
from inpaint_lightning.inference.convert import to_image, to_mask
from inpaint_lightning.inference.loading import FileLoaded
from inpaint_lightning.inference.sizing import (
    downscale,
    hole_windows,
    pad_to_multiple,
    shrink_size,
)

Mode = Literal["crop", "full"]


class Inpainter(FileLoaded):
    """Fill holes in images of any size, type and batch with a generator (``from_checkpoint``, ``from_onnx``,
    ``from_torchscript``, ``from_file``: :class:`~inpaint_lightning.inference.loading.FileLoaded`).

    Args:
        backend: a callable mapping ``B x 4 x H x W`` (masked RGB ++ mask, H and W multiples of its
            ``size_multiple``) to the raw ``B x 3 x H x W`` prediction: :class:`~inpaint_lightning.inference.backends.TorchBackend` or
            :class:`~inpaint_lightning.inference.onnx_runtime.OnnxBackend`. Use the ``from_*`` constructors.
        invert_mask: masks mark the hole in black (default: white/1 = hole).
        dilate: grow every hole by this many pixels (a disk, after ``invert_mask``; 0 = as given), e.g. to cover
            the halo a rough selection leaves around an object
            (:func:`~inpaint_lightning.data.masks.dilate_holes`).
        mode: ``crop`` (windows around the holes, see the module docstring) or ``full`` (whole image).
        working_size: in crop mode, a window whose longer side exceeds this is resized down to it for the
            network (the fill is resized back); None never resizes.
        crop_margin: context around each hole in crop mode, as a fraction of the hole's longer side ...
        min_margin: ... and at least this many pixels.
    """

    task, channels = "inpaint", 4

    def __init__(
        self,
        backend: Callable[[Tensor], Tensor],
        invert_mask: bool = False,
        mode: Mode = "crop",
        working_size: int | None = 512,
        crop_margin: float = 1.0,
        min_margin: int = 64,
        dilate: int = 0,
    ) -> None:
        if mode not in ("crop", "full"):
            raise ValueError(f"mode must be 'crop' or 'full', got {mode!r}")
        if dilate < 0:
            raise ValueError(f"dilate must be >= 0 pixels, got {dilate}")
        self._use_backend(backend)
        self.invert_mask, self.mode, self.dilate = invert_mask, mode, dilate
        self.working_size, self.crop_margin, self.min_margin = working_size, crop_margin, min_margin

    # ------------------------------------------------------------------------------------------ constructors
    @classmethod
    def from_backend(cls, backend: Any, meta: dict[str, str], **options: Any) -> Inpainter:
        """From a loaded export's backend; a ``prefill`` its metadata leaves to the caller runs before it."""
        return cls(with_prefill(backend, meta.get("prefill")), **options)

    # -------------------------------------------------------------------------------------------- inference
    def __call__(
        self,
        image: Any,
        mask: Any,
        *,
        invert_mask: bool | None = None,
        mode: Mode | None = None,
        dilate: int | None = None,
    ) -> Any:
        """Inpaint ``image`` where ``mask`` marks holes; returns the image's type, size and layout.

        ``image``/``mask``: PIL images, numpy arrays, tensors (single or batched, see
        :mod:`~inpaint_lightning.inference.convert`) or lists of them (of any sizes). A mask of another size
        than its image is fitted by :func:`~inpaint_lightning.data.masks.fit_mask`: resized when it has the image's
        aspect ratio, else :class:`~inpaint_lightning.data.masks.MaskSizeError` (a ``ValueError``). ``invert_mask``, ``mode`` and ``dilate`` override the constructor's.
        """
        invert = self.invert_mask if invert_mask is None else invert_mask
        mode = self.mode if mode is None else mode
        grow = self.dilate if dilate is None else dilate
        if isinstance(image, (list, tuple)):
            masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(image)
            if len(masks) != len(image):
                raise ValueError(f"{len(image)} images but {len(masks)} masks")
            return [
                self(i, m, invert_mask=invert, mode=mode, dilate=grow)
                for i, m in zip(image, masks, strict=True)
            ]
        converted = to_image(image)
        holes = to_mask(mask, invert=invert)
        img = converted.image
        if holes.shape[-2:] != img.shape[-2:]:
            size = tuple(img.shape[-2:])
            fitted = np.stack([fit_mask(m, size) for m in holes[:, 0].cpu().numpy()])
            holes = torch.from_numpy(fitted)[:, None].to(holes.device)
        if holes.shape[0] not in (1, img.shape[0]):
            raise ValueError(f"{img.shape[0]} images but {holes.shape[0]} masks")
        if grow:  # negative: dilate_holes raises
            grown = np.stack([dilate_holes(m, grow) for m in holes[:, 0].cpu().numpy()])
            holes = torch.from_numpy(grown)[:, None].to(holes.device)
        holes = holes.expand(img.shape[0], -1, -1, -1)
        return converted.back(self.inpaint_tensor(img, holes, mode=mode))

    def inpaint_tensor(self, image: Tensor, mask: Tensor, mode: Mode | None = None) -> Tensor:
        """``image`` (``B x 3 x H x W`` in [0, 1]) with the holes of ``mask`` (``B x 1 x H x W``, 1 = hole)
        filled; known pixels are returned unchanged. Float32 on the image's device."""
        mode = self.mode if mode is None else mode
        if mode not in ("crop", "full"):
            raise ValueError(f"mode must be 'crop' or 'full', got {mode!r}")
        image = image.float()
        mask = (mask.to(image.device).float() > 0.5).float()
        if mode == "full":
            return self._fill(image, mask, working_size=None)
        out = image.clone()
        for b in range(image.shape[0]):
            for win in hole_windows(mask[b, 0], self.crop_margin, self.min_margin):
                rows, cols = win.slices
                out[b : b + 1, :, rows, cols] = self._fill(
                    image[b : b + 1, :, rows, cols], mask[b : b + 1, :, rows, cols], self.working_size
                )
        return out

    def network_pixels(self, mask: Tensor | np.ndarray, mode: Mode | None = None) -> int:
        """Pixels the network will process for one image with ``mask`` (``H x W``, 1 = hole) in ``mode``,
        computed without running it: the whole image in ``full`` mode, the (shrunk) hole windows in ``crop``
        mode. What a service bounds per request: inference time and memory grow with it."""
        mode = self.mode if mode is None else mode
        if isinstance(mask, Tensor):
            mask = mask.detach().to("cpu", torch.float32).numpy()
        mask = np.asarray(mask).reshape(np.asarray(mask).shape[-2:])
        if mode == "full":
            return int(mask.shape[0] * mask.shape[1])
        total = 0
        for win in hole_windows(mask, self.crop_margin, self.min_margin):
            rows, cols = win.slices
            h, w = shrink_size(rows.stop - rows.start, cols.stop - cols.start, self.working_size)
            total += h * w
        return total

    def _fill(self, image: Tensor, mask: Tensor, working_size: int | None) -> Tensor:
        """Composited fill of one region: downscale to ``working_size`` when larger, pad, run, crop, upscale."""
        h, w = image.shape[-2:]
        size = shrink_size(h, w, working_size)
        small_image, small_mask = downscale(image, mask, size)
        x = torch.cat([small_image * (1.0 - small_mask), small_mask], dim=1)
        padded, _ = pad_to_multiple(x, self.size_multiple, self.min_side())
        pred = self.backend(padded.to(self.device)).to(image.device, torch.float32)[..., : size[0], : size[1]]
        if not bool(torch.isfinite(pred).all()):
            bad = int((~torch.isfinite(pred)).sum())
            raise NonFiniteOutputError(
                f"the model returned {bad} NaN/inf values for a {w} x {h} region: its weights or export are broken "
                f"(or fp16 overflowed: try precision fp32)"
            )
        if size != (h, w):
            pred = F.interpolate(pred, size=(h, w), mode="bilinear", align_corners=False)
        return composite(pred, image, mask)
