"""What every generator shares: the input/output contract, padding, optional pre-fill and residual output.

Contract: ``forward(x)`` takes ``B x 4 x H x W`` = masked RGB in [0, 1] ++ mask (1 = hole) and returns
``B x 3 x H x W`` at the same (any) size, trained towards [0, 1]. Subclasses implement only :meth:`body` on a
normalised, padded input, so padding, normalisation and the output head behave the same across the zoo.

Outputs are linear by default (``0.5 + 0.5 * body``; :func:`inpaint_lightning.composite.composite` clamps them): a
sigmoid output saturated when a higher learning rate overshot early and the fill stopped learning (measured: G lr
1e-3 diverged with a sigmoid head and trained fine without). ``head="sigmoid"`` (``sigmoid(body)``) exists for
published weights trained with one (LaMa's).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.models.layers import pad_to_multiple

Prefill = Literal["none", "pyramid", "patchmatch"]
Head = Literal["linear", "sigmoid"]


#: Pyramid levels of :func:`pyramid_fill`: enough for sides up to 2**16.
PREFILL_LEVELS = 16


def pyramid_fill(image: Tensor, mask: Tensor, levels: int = PREFILL_LEVELS) -> Tensor:
    """Fill the hole (mask = 1) smoothly from its surroundings by push-pull on an image pyramid.

    Push: halve the resolution repeatedly, averaging only known pixels, until the image is 1 pixel high or wide.
    Pull: upsample coarse levels back and use them only where a level has no known pixel (mid-grey where nothing
    is known at all). Known pixels are returned unchanged. Like OpenCV's Telea or biharmonic fills it gives a
    smooth, colour-correct starting point, but it is a few pooling ops: differentiable, any size, GPU and ONNX.

    The loop always runs ``levels`` times; levels past the 1-pixel point are switched off by a 0/1 factor computed
    from the tensor shapes, so a traced or exported graph is exact at every size, not only the example's.
    """
    known = 1.0 - mask
    stack: list[tuple[Tensor, Tensor, Tensor]] = []  # (image, weight, "the level above this one exists")
    img, w = image * known, known
    for _ in range(levels):
        shape = torch._shape_as_tensor(img)[-2:]
        exists_above = (shape.min() > 1).to(image.dtype)
        stack.append((img, w, exists_above))
        s_img = F.avg_pool2d(img * w, 2, ceil_mode=True)
        s_w = F.avg_pool2d(w, 2, ceil_mode=True)
        has = (s_w > 0).to(image.dtype)
        img, w = s_img / s_w.clamp_min(1e-6) * has, has
    fill = img * w + 0.5 * (1.0 - w)
    for img, w, exists_above in reversed(stack):
        up = F.interpolate(fill, size=img.shape[-2:], mode="bilinear", align_corners=False)
        up = exists_above * up + (1.0 - exists_above) * 0.5  # the top level's grey where nothing is known
        fill = img * w + up * (1.0 - w)
    return image * known + fill * mask


#: PatchMatch needs some whole 7 x 7 patches of known pixels to copy from; below this it falls back to the pyramid.
_PATCHMATCH_MIN_SIDE, _PATCHMATCH_MIN_KNOWN = 16, 0.05


@torch.no_grad()
def patchmatch_fill(image: Tensor, mask: Tensor) -> Tensor:
    """Fill the hole with texture copied from the known region by PatchMatch (pypatchmatch: CPU, one image at a
    time, seeded, not differentiable). Images too small or almost all hole fall back to :func:`pyramid_fill`."""
    from inpaint_lightning.models.classical import baseline

    fill = baseline("patchmatch")
    out = []
    for i, (img, m) in enumerate(zip(image.detach().float().cpu(), mask.detach().float().cpu(), strict=True)):
        hole = (m[0] > 0.5).numpy()
        if (
            min(hole.shape) < _PATCHMATCH_MIN_SIDE
            or not hole.any()
            or (1.0 - hole.mean()) < _PATCHMATCH_MIN_KNOWN
        ):  # the smooth fill only for the samples that need it, not for the whole batch on every step
            out.append(pyramid_fill(image[i : i + 1], mask[i : i + 1])[0].detach().float().cpu())
            continue
        rgb = (img.clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype("uint8")
        out.append(torch.from_numpy(fill(rgb, hole.astype("float32"))).permute(2, 0, 1).float() / 255.0)
    filled = torch.stack(out).to(image.device, image.dtype)
    return image * (1.0 - mask) + filled * mask


class InpaintGenerator(nn.Module):
    """Base class of every generator (see the module docstring for the contract).

    Args:
        prefill: what the hole holds when the network sees it: ``none`` (whatever the data wrote there, black by
            default) or ``pyramid`` (:func:`pyramid_fill`, a smooth fill from the hole's surroundings).
        residual: predict a correction to the (pre-filled) input instead of the image itself. With ``pyramid``
            this starts training from a smooth fill, so the network spends its capacity on structure and texture.
            (A zero-initialised gate on the correction, as ReZero, kept the network stuck at the pre-fill: its
            body's gradients are proportional to the gate, so it never opened; measured over 90 CPU steps.)
        head: how the body's output becomes RGB in [0, 1]: ``linear`` (``0.5 + 0.5 * body``, or the pre-filled
            input plus ``0.5 * body`` with ``residual``) or ``sigmoid`` (``sigmoid(body)``: LaMa's published
            weights; not with ``residual``).
    """

    size_multiple: int = 1  # inputs are padded to a multiple of this and cropped back

    def __init__(self, prefill: Prefill = "none", residual: bool = False, head: Head = "linear") -> None:
        super().__init__()
        if prefill not in ("none", "pyramid", "patchmatch"):
            raise ValueError(f"prefill must be 'none', 'pyramid' or 'patchmatch', got {prefill!r}")
        if head not in ("linear", "sigmoid"):
            raise ValueError(f"head must be 'linear' or 'sigmoid', got {head!r}")
        if head == "sigmoid" and residual:
            raise ValueError("head 'sigmoid' predicts the image itself: it cannot be residual")
        self.prefill, self.residual, self.head = prefill, residual, head

    def body(self, x: Tensor) -> Tensor | list[Tensor]:
        """Map the normalised input (``B x 4``: RGB in [-1, 1], mask in {0, 1}; padded) to RGB in about [-1, 1].

        Multi-stage generators (coarse-to-fine) return every stage's output, the final one last; earlier stages
        get their own reconstruction loss (:meth:`forward_stages`).
        """
        raise NotImplementedError

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        """Every stage's prediction in image space (``B x 3 x H x W``), the final one last."""
        masked, mask = x[:, :3], x[:, 3:4]
        if self.prefill == "pyramid":
            masked = pyramid_fill(masked, mask)
        elif self.prefill == "patchmatch":
            masked = patchmatch_fill(masked, mask)
        padded, (h, w) = pad_to_multiple(torch.cat([masked * 2.0 - 1.0, mask], dim=1), self.size_multiple)
        out = self.body(padded)
        stages = [y[..., :h, :w] for y in (out if isinstance(out, list) else [out])]
        if self.head == "sigmoid":
            return [torch.sigmoid(y) for y in stages]
        base = masked if self.residual else 0.5
        return [base + 0.5 * y for y in stages]

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_stages(x)[-1]
