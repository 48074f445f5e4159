"""Generators: ``forward(x)`` maps masked RGB ++ mask (``B x 4 x H x W``) to RGB at any H x W.

Every class derives from :class:`InpaintGenerator` (shared padding, pre-fill and output head).
"""

from inpaint_lightning.models.generators.aot import AOTBlock, AOTGenerator
from inpaint_lightning.models.generators.base import InpaintGenerator, pyramid_fill
from inpaint_lightning.models.generators.deepfill import DeepFillV2
from inpaint_lightning.models.generators.gated_unet import GatedUNet
from inpaint_lightning.models.generators.lama import FFCResNet
from inpaint_lightning.models.generators.migan import MIGAN
from inpaint_lightning.models.generators.pconv import PartialConv2d, PConvUNet

__all__ = [
    "AOTBlock",
    "AOTGenerator",
    "DeepFillV2",
    "FFCResNet",
    "GatedUNet",
    "InpaintGenerator",
    "MIGAN",
    "PConvUNet",
    "PartialConv2d",
    "pyramid_fill",
]
