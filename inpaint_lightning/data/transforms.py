"""Albumentations pipelines. Geometric transforms also move a ``mask`` target (masks read from files)."""

from __future__ import annotations

import albumentations as A
import cv2


def train_transform(
    size: int,
    crop_scale: tuple[float, float] = (0.3, 1.0),
    hflip: bool = True,
    affine: bool = True,
    color: float = 0.1,
) -> A.Compose:
    """Random resized crop to ``size``, flips, mild affine and colour jitter (colour touches the image only)."""
    ops: list[A.BasicTransform] = [
        A.RandomResizedCrop(
            size=(size, size), scale=crop_scale, ratio=(3 / 4, 4 / 3), interpolation=cv2.INTER_AREA
        ),
    ]
    if hflip:
        ops.append(A.HorizontalFlip(p=0.5))
    if affine:
        ops.append(A.Affine(scale=(0.9, 1.1), rotate=(-10, 10), border_mode=cv2.BORDER_REFLECT_101, p=0.3))
    if color > 0:
        ops.append(A.ColorJitter(brightness=color, contrast=color, saturation=color, hue=color / 5, p=0.5))
    return A.Compose(ops)


def eval_transform(size: int) -> A.Compose:
    """Deterministic: shortest side resized to ``size``, then centre crop."""
    return A.Compose(
        [
            A.SmallestMaxSize(max_size=size, interpolation=cv2.INTER_AREA),
            A.CenterCrop(height=size, width=size),
        ]
    )
