"""Data pipeline: sources of clean images, corruptions (holes), masks and the LightningDataModule."""

from inpaint_lightning.data.corruption import Corruption, HoleCorruption
from inpaint_lightning.data.datamodule import InpaintDataModule
from inpaint_lightning.data.masks import FolderMasks, FreeFormMasks

__all__ = ["Corruption", "FolderMasks", "FreeFormMasks", "HoleCorruption", "InpaintDataModule"]
