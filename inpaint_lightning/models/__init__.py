"""Networks, independent of Lightning: generators, discriminators and their layers."""

from inpaint_lightning.models.discriminators import PatchDiscriminator
from inpaint_lightning.models.generators import GatedUNet

__all__ = ["GatedUNet", "PatchDiscriminator"]
