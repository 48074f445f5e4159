"""Loss functions and the GAN objective."""

from inpaint_lightning.losses.adversarial import d_loss, g_loss
from inpaint_lightning.losses.inpainting import InpaintingLoss, masked_l1

__all__ = ["InpaintingLoss", "d_loss", "g_loss", "masked_l1"]
