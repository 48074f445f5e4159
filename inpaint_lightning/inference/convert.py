"""Inputs of any common type to ``B x 3 x H x W`` / ``B x 1 x H x W`` float tensors, and results back.

Accepted images: ``PIL.Image`` (any mode: greyscale, RGBA over white, palette, 16-bit; EXIF orientation is *not*
applied to in-memory images, only to files), numpy ``H x W x 3`` / ``H x W`` / ``B x H x W x 3`` (uint8 in 0..255,
or float in [0, 1]), torch ``3 x H x W`` / ``B x 3 x H x W`` (float in [0, 1] or uint8), or a list of these.
Masks: the same containers, one channel (``H x W``, ``H x W x 1``, ``1 x H x W``, ``B x 1 x H x W``...; RGB masks
use their luminance); values at or above half of full scale are holes (``invert_mask`` flips that).
Results come back in the image's own type, size, layout, dtype and device; a one-channel result (a damage mask)
as a PIL ``L`` image, a numpy ``H x W`` (``B x H x W``) array, or a ``1 x H x W`` (``B x 1 x H x W``) tensor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from inpaint_lightning.data.edits import LUMA
from inpaint_lightning.data.io import _pil_to_rgb, _to_uint8


@dataclass
class Converted:
    """One input as tensors, with what turns a result back into the input's type."""

    image: Tensor  # 1 x 3 x H x W or B x 3 x H x W, float32 in [0, 1]
    back: Callable[[Tensor], Any]


def _image_from_numpy(arr: np.ndarray) -> tuple[Tensor, Callable[[Tensor], Any]]:
    arr = np.asarray(arr)
    if not arr.flags.writeable:  # e.g. np.asarray(PIL image): torch.from_numpy wants writable memory
        arr = arr.copy()
    batched = arr.ndim == 4
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] == 1):
        arr = np.repeat(arr.reshape(*arr.shape[:2], 1), 3, axis=-1)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] not in (3, 4):
        raise ValueError(f"numpy image must be H x W x 3 (or H x W, or B x H x W x 3), got shape {arr.shape}")
    if arr.shape[-1] == 4:
        rgb = [_pil_to_rgb(Image.fromarray(_to_uint8(a), "RGBA")) for a in arr]
        arr = np.stack(rgb)
    dtype = arr.dtype
    if dtype == np.uint8:
        tensor = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float() / 255.0
    elif np.issubdtype(dtype, np.floating):
        tensor = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).permute(0, 3, 1, 2).clamp(0, 1)
    else:  # 16-bit and other integers: scaled to 8 bit the same way as files
        tensor = torch.from_numpy(_to_uint8(arr)).permute(0, 3, 1, 2).float() / 255.0
        dtype = np.dtype(np.uint8)

    def back(out: Tensor) -> np.ndarray:
        res = out.detach().float().cpu().permute(0, 2, 3, 1).numpy()
        res = res[..., 0] if res.shape[-1] == 1 else res
        res = (
            np.clip(np.round(res * 255.0), 0, 255).astype(np.uint8)
            if dtype == np.uint8
            else res.astype(dtype)
        )
        return res if batched else res[0]

    return tensor, back


def _image_from_tensor(t: Tensor) -> tuple[Tensor, Callable[[Tensor], Any]]:
    batched = t.ndim == 4
    if t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[1] != 3:
        raise ValueError(f"tensor image must be 3 x H x W or B x 3 x H x W, got shape {tuple(t.shape)}")
    dtype, device = t.dtype, t.device
    tensor = t.float() / 255.0 if dtype == torch.uint8 else t.float().clamp(0, 1)

    def back(out: Tensor) -> Tensor:
        out = out.detach().to(device)
        out = out.mul(255.0).round().clamp(0, 255).to(torch.uint8) if dtype == torch.uint8 else out.to(dtype)
        return out if batched else out[0]

    return tensor, back


def to_image(image: Any) -> Converted:
    """One image (or a batch, for 4-D arrays/tensors) as a float tensor and the function that converts back."""
    if isinstance(image, Image.Image):
        arr = _pil_to_rgb(image)
        tensor = torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255.0

        def back(out: Tensor) -> Image.Image:
            res = out.detach().float().cpu()[0].permute(1, 2, 0).numpy()
            pixels = np.clip(np.round(res * 255.0), 0, 255).astype(np.uint8)
            return (
                Image.fromarray(pixels[..., 0], "L")
                if pixels.shape[-1] == 1
                else Image.fromarray(pixels, "RGB")
            )

        return Converted(tensor, back)
    if isinstance(image, np.ndarray):
        return Converted(*_image_from_numpy(image))
    if isinstance(image, Tensor):
        return Converted(*_image_from_tensor(image))
    raise TypeError(f"image must be a PIL image, numpy array or torch tensor, got {type(image).__name__}")


def to_mask(mask: Any, invert: bool = False, threshold: float = 0.5) -> Tensor:
    """A mask (or a batch of masks) as ``B x 1 x H x W`` float32 in {0, 1}, 1 = hole (after ``invert``)."""
    if isinstance(mask, Image.Image):
        if mask.mode in ("RGBA", "LA") and np.asarray(mask.convert("L")).max() == 0:
            grey = np.asarray(mask.getchannel("A"))  # alpha-only mask (as read_mask)
        elif mask.mode.startswith("I") or mask.mode == "F":
            grey = _to_uint8(np.asarray(mask))
        else:
            grey = np.asarray(mask.convert("L"))
        values = torch.from_numpy(grey.astype(np.float32) / 255.0)[None, None]
    elif isinstance(mask, np.ndarray):
        arr = np.asarray(mask)
        if arr.dtype == np.bool_:
            arr = arr.astype(np.float32)
        elif arr.dtype == np.uint8:
            arr = arr.astype(np.float32) / 255.0
        elif np.issubdtype(arr.dtype, np.integer):
            arr = _to_uint8(arr).astype(np.float32) / 255.0
        arr = arr.astype(np.float32)
        if arr.ndim == 3 and arr.shape[-1] in (3, 4):  # H x W x RGB(A): luminance
            arr = arr[..., :3] @ LUMA
        elif arr.ndim == 4 and arr.shape[-1] in (1, 3):  # B x H x W x C
            arr = arr.max(axis=-1)
        if arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        values = torch.from_numpy(np.array(arr, copy=not arr.flags.writeable, order="C"))
        values = values[None, None] if values.ndim == 2 else values[:, None]
    elif isinstance(mask, Tensor):
        values = mask.detach()
        if values.dtype == torch.bool:
            values = values.float()
        elif values.dtype == torch.uint8:
            values = values.float() / 255.0
        values = values.float()
        if values.ndim == 2:
            values = values[None, None]
        elif values.ndim == 3:
            values = values[None] if values.shape[0] == 1 else values[:, None]
    else:
        raise TypeError(f"mask must be a PIL image, numpy array or torch tensor, got {type(mask).__name__}")
    if values.ndim != 4 or values.shape[1] != 1:
        raise ValueError(
            f"mask must have one channel (H x W or B x 1 x H x W), got shape {tuple(values.shape)}"
        )
    hole = values >= threshold
    if invert:
        hole = ~hole
    return hole.float()
