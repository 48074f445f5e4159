"""Restore photos of any size with a trained restoration generator (PyTorch, TorchScript or ONNX Runtime).

>>> restorer = Restorer.from_checkpoint("logs/.../last.ckpt")   # task and scale come from the checkpoint
>>> sharp = restorer(Image.open("photo.jpg"))                 # a PIL image, scale x the input's size

Restoration touches every pixel, so a large photo runs as **overlapping tiles**: windows of ``tile`` pixels (of
the input) stepping by ``tile - overlap``, each padded as the network needs, run alone, and blended into the
output with weights that ramp linearly across each overlap (1 inside a tile, falling to 0 at the tile's inner
edges, where it saw the least context), so no seam shows and a pixel far from every inner edge is exactly the
tile's output. The network's memory is bounded by the tile, not the photo; only the output itself is photo-sized.
Inputs and outputs follow :mod:`~inpaint_lightning.inference.convert` (PIL, numpy, tensors, batches, lists: the
same type and dtype back).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inpaint_lightning.errors import NonFiniteOutputError
from inpaint_lightning.inference.convert import to_image
from inpaint_lightning.inference.loading import FileLoaded
from inpaint_lightning.inference.sizing import pad_to_multiple


def _starts(length: int, tile: int, step: int) -> list[int]:
    """Tile origins covering ``length``: every ``step``, the last one flush with the end."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def _ramp(length: int, overlap: int, low_edge: bool, high_edge: bool) -> Tensor:
    """1-D blending weight of a tile: linear ramps of ``overlap`` pixels at inner edges, 1 elsewhere."""
    w = torch.ones(length)
    if overlap > 0:
        ramp = (torch.arange(overlap, dtype=torch.float32) + 0.5) / overlap
        if low_edge:
            w[:overlap] = torch.minimum(w[:overlap], ramp)
        if high_edge:
            w[-overlap:] = torch.minimum(w[-overlap:], ramp.flip(0))
    return w


class Restorer(FileLoaded):
    """Restore images of any size, type and batch with a restoration generator, in overlapping tiles
    (``from_checkpoint``, ``from_onnx``, ``from_torchscript``, ``from_file``:
    :class:`~inpaint_lightning.inference.loading.FileLoaded`).

    Args:
        backend: a callable mapping ``B x 3 x h x w`` (sides multiples of its ``size_multiple``) to
            ``B x 3 x (scale h) x (scale w)``: :class:`~inpaint_lightning.inference.backends.TorchBackend` or
            :class:`~inpaint_lightning.inference.onnx_runtime.OnnxBackend`. Use the ``from_*`` constructors.
        scale: output size / input size (from the checkpoint or the export's metadata).
        tile: side of the input tiles (None: the whole image at once).
        overlap: pixels (of the input) shared by neighbouring tiles and blended.
    """

    task, channels = "restore", 3
    #: channels of the model's output (and of what is blended across tiles)
    out_channels = 3

    def __init__(self, backend: Any, scale: int = 1, tile: int | None = 512, overlap: int = 32) -> None:
        if tile is not None and tile < 16:
            raise ValueError(f"tile must be at least 16 pixels (or None), got {tile}")
        if overlap < 0 or (tile is not None and 2 * overlap >= tile):
            raise ValueError(f"overlap must be in [0, tile / 2), got {overlap} for tile {tile}")
        self._use_backend(backend)
        self.scale, self.tile, self.overlap = int(scale), tile, overlap

    # ------------------------------------------------------------------------------------------ constructors
    @classmethod
    def from_backend(cls, backend: Any, meta: dict[str, str], **options: Any) -> Restorer:
        """From a loaded export's backend; its metadata gives the scale."""
        options.setdefault("scale", int(meta.get("scale") or 1))
        return cls(backend, **options)

    # -------------------------------------------------------------------------------------------- inference
    def __call__(self, image: Any) -> Any:
        """Restore ``image`` (PIL, numpy, tensor, a batch, or a list of any of these); returns the same type at
        ``scale`` x its size."""
        if isinstance(image, (list, tuple)):
            return [self(i) for i in image]
        converted = to_image(image)
        return converted.back(self.restore_tensor(converted.image))

    def restore_tensor(self, image: Tensor) -> Tensor:
        """``B x 3 x H x W`` in [0, 1] -> ``B x C x (scale H) x (scale W)`` in [0, 1] (C = 3, or 1 for the damage
        detector's probabilities), float32 on the image's device."""
        image = image.float()
        b, _, h, w = image.shape
        s = self.scale
        if not self._tiled(h, w):
            return self._run(image)
        tile, step = self.tile, self.tile - self.overlap
        out = torch.zeros(b, self.out_channels, h * s, w * s, device=image.device)
        weight = torch.zeros(1, 1, h * s, w * s, device=image.device)
        rows, cols = _starts(h, tile, step), _starts(w, tile, step)
        for top in rows:
            for left in cols:
                th, tw = min(tile, h), min(tile, w)
                pred = self._run(image[..., top : top + th, left : left + tw])
                wy = _ramp(th * s, self.overlap * s, top > 0, top + th < h)
                wx = _ramp(tw * s, self.overlap * s, left > 0, left + tw < w)
                wt = (wy[:, None] * wx[None, :]).to(image.device)[None, None]
                region = (..., slice(top * s, (top + th) * s), slice(left * s, (left + tw) * s))
                out[region] += pred * wt
                weight[region] += wt
        return (out / weight).clamp(0, 1)

    def network_pixels(self, height: int, width: int) -> int:
        """Input pixels the network processes for an ``height x width`` image (overlaps counted twice), computed
        without running it: what a service bounds per request."""
        if not self._tiled(height, width):
            return height * width
        step = self.tile - self.overlap
        rows, cols = _starts(height, self.tile, step), _starts(width, self.tile, step)
        return len(rows) * min(self.tile, height) * len(cols) * min(self.tile, width)

    def _tiled(self, h: int, w: int) -> bool:
        """Whether an ``h x w`` image runs in tiles: it exceeds the tile, and the model allows tiles."""
        return self.tile is not None and not self.whole_image and (h > self.tile or w > self.tile)

    def _run(self, image: Tensor) -> Tensor:
        """One window through the network: pad to the model's multiple (and minimum side), run, crop, check."""
        h, w = image.shape[-2:]
        padded, _ = pad_to_multiple(image, self.size_multiple, self.min_side())
        pred = self.backend(padded.to(self.device)).to(image.device, torch.float32)
        pred = pred[..., : h * self.scale, : w * self.scale]
        if not bool(torch.isfinite(pred).all()):
            bad = int((~torch.isfinite(pred)).sum())
            raise NonFiniteOutputError(
                f"the model returned {bad} NaN/inf values for a {w} x {h} window: its weights or export are broken "
                f"(or fp16 overflowed: try precision fp32)"
            )
        return self._finish(pred)

    def _finish(self, pred: Tensor) -> Tensor:
        """The network's raw output as what is blended across tiles (an image in [0, 1])."""
        return pred.clamp(0, 1)
