"""Data pipeline: sources of clean images, corruptions (holes, degradations, damage), masks and the LightningDataModule.

Names are imported on first use (PEP 562), so light commands (``masks``, ``evaluate``) that only need file
decoding or mask drawing do not pay for importing Lightning.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Corruption": "inpaint_lightning.data.corruption",
    "HoleCorruption": "inpaint_lightning.data.corruption",
    "DegradeCorruption": "inpaint_lightning.data.corruption",
    "DamageCorruption": "inpaint_lightning.data.corruption",
    "Damage": "inpaint_lightning.data.damage",
    "ImageDataModule": "inpaint_lightning.data.datamodule",
    "InpaintDataModule": "inpaint_lightning.data.datamodule",  # its first name, kept
    "FolderMasks": "inpaint_lightning.data.masks",
    "FreeFormMasks": "inpaint_lightning.data.masks",
    "PresetMixture": "inpaint_lightning.data.mask_presets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
