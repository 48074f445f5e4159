"""Generators: ``forward(x)`` maps masked RGB ++ mask (``B x 4 x H x W``) to RGB at any H x W.

Every class derives from :class:`InpaintGenerator` (shared padding, pre-fill and output head).
"""

from inpaint_lightning.models.generators.base import InpaintGenerator, pyramid_fill
from inpaint_lightning.models.generators.gated_unet import GatedUNet
from inpaint_lightning.models.generators.lama import FFCResNet

__all__ = ["FFCResNet", "GatedUNet", "InpaintGenerator", "pyramid_fill"]
