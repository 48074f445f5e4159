"""Networks, independent of Lightning: inpainting generators, the restoration generators (NAFNet, RRDB-lite), the
enhancement generator (a grid of colour transforms), discriminators and their layers."""

from inpaint_lightning.models.discriminators import (
    ColourTextureDiscriminator,
    DiscriminatorOutput,
    GlobalLocalDiscriminator,
    MultiScaleDiscriminator,
    PatchDiscriminator,
)
from inpaint_lightning.models.enhance import ColourGrid
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
    "ColourGrid",
    "ColourTextureDiscriminator",
    "DeepFillV2",
    "DiscriminatorOutput",
    "FFCResNet",
    "GatedUNet",
    "GlobalLocalDiscriminator",
    "InpaintGenerator",
    "MIGAN",
    "MultiScaleDiscriminator",
    "NAFNet",
    "RRDBNet",
    "PConvUNet",
    "PatchDiscriminator",
    "ProjectedDiscriminator",
]
