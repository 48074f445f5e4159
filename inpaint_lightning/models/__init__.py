"""Networks, independent of Lightning: inpainting generators, the restoration generator (NAFNet), discriminators
and their layers."""

from inpaint_lightning.models.discriminators import (
    DiscriminatorOutput,
    MultiScaleDiscriminator,
    PatchDiscriminator,
)
from inpaint_lightning.models.generators import (
    MIGAN,
    AOTGenerator,
    DeepFillV2,
    FFCResNet,
    GatedUNet,
    InpaintGenerator,
    PConvUNet,
)
from inpaint_lightning.models.projected import ProjectedDiscriminator
from inpaint_lightning.models.restoration import NAFNet, RRDBNet

__all__ = [
    "AOTGenerator",
    "DeepFillV2",
    "DiscriminatorOutput",
    "FFCResNet",
    "GatedUNet",
    "InpaintGenerator",
    "MIGAN",
    "MultiScaleDiscriminator",
    "NAFNet",
    "RRDBNet",
    "PConvUNet",
    "PatchDiscriminator",
    "ProjectedDiscriminator",
]
