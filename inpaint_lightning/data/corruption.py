"""How a clean image is corrupted: the swappable piece of the data pipeline that makes a task inpainting,
restoration or damage detection. A corruption turns a clean crop into the network's ``input``:
:class:`HoleCorruption` cuts holes (and returns the hole ``mask``), :class:`DegradeCorruption` degrades the whole
photo (noise, blur, down-scaling, JPEG, low light), possibly to a smaller size (``scale``), and
:class:`DamageCorruption` draws old-photo damage and makes its mask the ``target``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import Tensor

from inpaint_lightning.data.damage import Damage
from inpaint_lightning.data.degradations import Degradation, pad_kernels, preset
from inpaint_lightning.data.masks import FreeFormMasks, MaskSource


class Corruption(ABC):
    """Base of every corruption (:class:`HoleCorruption`, :class:`DegradeCorruption`)."""

    #: how many times smaller ``input`` is than the clean image (crops must be multiples of it)
    scale: int = 1
    #: the model task (:mod:`inpaint_lightning.tasks`) its samples are for
    task: str = "inpaint"

    def spatial_target(
        self, height: int, width: int, rng: np.random.Generator, index: int, train: bool
    ) -> np.ndarray | None:
        """An ``H x W`` array to push through the image's geometric augmentation (e.g. a mask file), or None."""
        return None

    @abstractmethod
    def __call__(
        self, image: Tensor, rng: np.random.Generator, index: int, train: bool, target: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Corrupt a clean ``3 x H x W`` image in [0, 1]; return the network's ``input`` (and, for inpainting,
        the hole ``mask``, 1xHxW)."""


class HoleCorruption(Corruption):
    """Cut holes: ``input = image * (1 - mask) + fill * mask`` with masks from any :class:`MaskSource`.

    Args:
        masks: where holes come from (free-form generator by default, or :class:`FolderMasks`).
        fill: value written into the hole of the input (0 = black, as LaMa).
    """

    def __init__(self, masks: MaskSource | None = None, fill: float = 0.0) -> None:
        self.masks: MaskSource = masks if masks is not None else FreeFormMasks()
        self.fill = fill

    def spatial_target(
        self, height: int, width: int, rng: np.random.Generator, index: int, train: bool
    ) -> np.ndarray | None:
        if self.masks.geometric:
            return self.masks(height, width, rng, index, train)
        return None

    def __call__(
        self, image: Tensor, rng: np.random.Generator, index: int, train: bool, target: Tensor | None = None
    ) -> dict[str, Tensor]:
        if target is None:
            target = torch.from_numpy(self.masks(image.shape[-2], image.shape[-1], rng, index, train))
        mask = (target.float() > 0.5).float().reshape(1, *image.shape[-2:])
        masked = image * (1.0 - mask) + self.fill * mask
        return {"input": masked, "mask": mask}


class DegradeCorruption(Corruption):
    """Degrade the whole photo (restoration): ``input`` is ``degradation(image)``, ``1 / scale`` of its size for
    super-resolution; no mask. ``degradation`` is a :mod:`~inpaint_lightning.data.degradations` object or a
    preset name (``sr_x4``, ``denoise``, ``blind_x4``...); its randomness comes from the sample's seeded
    generator like the masks', so pairs are identical for any worker count and after a resume, and the
    validation/test degradations are fixed.

    With ``kernel_size`` the samples are for non-blind deblurring (the ``deconvolve`` task): each also carries the
    blur ``kernel`` the degradation applied (``1 x kernel_size x kernel_size``, centred, summing to 1; a delta
    when it did not blur), as a camera's known point-spread function would be given.
    """

    def __init__(self, degradation: Degradation | str = "denoise", kernel_size: int | None = None) -> None:
        self.degradation: Degradation = preset(degradation) if isinstance(degradation, str) else degradation
        self.kernel_size = kernel_size
        if kernel_size is not None:
            self._check_kernels(kernel_size)

    def _check_kernels(self, kernel_size: int) -> None:
        """At construction, not in a data worker mid-run: the degradation must report the blur it applies (a
        blur, or ``OneOf`` blurs: what :meth:`Degradation.blur_kernel` answers), keep the size, and fit
        ``kernel_size`` (checked on 32 draws; a rarer larger one still fails by name when it is drawn)."""
        name = type(self.degradation).__name__
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number of pixels, got {kernel_size}")
        if self.degradation.scale != 1:
            raise ValueError(
                f"kernel_size is for deblurring at scale 1; {name} down-scales x{self.degradation.scale}"
            )
        for seed in range(32):
            kernel = self.degradation.blur_kernel(np.random.default_rng(seed))
            if kernel is None:
                raise ValueError(
                    f"kernel_size needs a degradation that reports its blur kernel (GaussianBlur, DefocusBlur, "
                    f"MotionBlur, or OneOf of them); {name} does not"
                )
            if max(kernel.shape) > kernel_size:
                raise ValueError(
                    f"{name} makes kernels of {max(kernel.shape)} px, larger than kernel_size {kernel_size}"
                )

    @property
    def scale(self) -> int:
        return self.degradation.scale

    @property
    def task(self) -> str:  # type: ignore[override]
        return "restore" if self.kernel_size is None else "deconvolve"

    def __call__(
        self, image: Tensor, rng: np.random.Generator, index: int, train: bool, target: Tensor | None = None
    ) -> dict[str, Tensor]:
        pixels = image.permute(1, 2, 0).contiguous().numpy().astype(np.float32)
        if self.kernel_size is None:
            return {"input": _chw(self.degradation(pixels, rng))}
        low, kernel = self.degradation.degrade_with_kernel(pixels, rng)
        return {"input": _chw(low), "kernel": pad_kernels([kernel], self.kernel_size)[0]}


def _chw(pixels: np.ndarray) -> Tensor:
    """An ``H x W x C`` float array as a ``C x H x W`` float tensor."""
    return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1).float()


class DamageCorruption(Corruption):
    """Old-photo damage (the damage detector's task): ``input`` is the photo with seeded scratches, cracks, dust,
    tears and stains (:class:`~inpaint_lightning.data.damage.Damage`), and ``target`` is not the clean photo but
    the ``1 x H x W`` mask of the damaged pixels (1 = damage, the holes the inpainter will fill)."""

    task = "detect"

    def __init__(self, damage: Damage | None = None) -> None:
        self.damage = damage if damage is not None else Damage()

    def __call__(
        self, image: Tensor, rng: np.random.Generator, index: int, train: bool, target: Tensor | None = None
    ) -> dict[str, Tensor]:
        pixels = image.permute(1, 2, 0).contiguous().numpy().astype(np.float32)
        damaged, mask = self.damage(pixels, rng)
        return {
            "input": _chw(damaged),
            "target": torch.from_numpy(mask)[None].float(),
        }
