"""Albumentations pipelines. Geometric transforms also move a ``mask`` target (masks read from files)."""

from __future__ import annotations

import albumentations as A
import cv2


def train_transform(
    size: int,
    crop_scale: tuple[float, float] | None = (0.3, 1.0),
    hflip: bool = True,
    affine: bool = True,
    color: float = 0.1,
) -> A.Compose:
    """Random resized crop to ``size``, flips, mild affine and colour jitter (colour touches the image only).

    ``crop_scale`` None crops at the image's own pixel scale (reflect-padded if smaller) and augments with flips
    and quarter turns only (``hflip`` switches both; ``affine`` is not used): no resampling anywhere, so the crops
    keep the detail statistics of photos as shot.
    Super-resolution needs that (it is tested on photos at their native scale; a resized crop of a shrunk photo
    is several times denser in detail than anything it will be given)."""
    if crop_scale is None:
        ops: list[A.BasicTransform] = [
            A.PadIfNeeded(min_height=size, min_width=size, border_mode=cv2.BORDER_REFLECT_101),
            A.RandomCrop(height=size, width=size),
        ]
        if hflip:
            ops += [A.HorizontalFlip(p=0.5), A.RandomRotate90(p=0.5)]
    else:
        ops = [
            A.RandomResizedCrop(
                size=(size, size), scale=crop_scale, ratio=(3 / 4, 4 / 3), interpolation=cv2.INTER_AREA
            ),
        ]
        if hflip:
            ops.append(A.HorizontalFlip(p=0.5))
        if affine:
            ops.append(
                A.Affine(scale=(0.9, 1.1), rotate=(-10, 10), border_mode=cv2.BORDER_REFLECT_101, p=0.3)
            )
    if color > 0:
        ops.append(A.ColorJitter(brightness=color, contrast=color, saturation=color, hue=color / 5, p=0.5))
    return A.Compose(ops)


def eval_transform(size: int, native: bool = False) -> A.Compose:
    """Deterministic: shortest side resized to ``size``, then centre crop; ``native``: the centre ``size`` crop
    at the image's own scale (reflect-padded if smaller), as :func:`train_transform` with ``crop_scale`` None."""
    if native:
        return A.Compose(
            [
                A.PadIfNeeded(min_height=size, min_width=size, border_mode=cv2.BORDER_REFLECT_101),
                A.CenterCrop(height=size, width=size),
            ]
        )
    return A.Compose(
        [
            A.SmallestMaxSize(max_size=size, interpolation=cv2.INTER_AREA),
            A.CenterCrop(height=size, width=size),
        ]
    )
