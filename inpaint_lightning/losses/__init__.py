"""Loss functions and the GAN objective."""

from inpaint_lightning.losses.adversarial import d_loss, feature_matching, g_loss, r1_penalty
from inpaint_lightning.losses.augment import DiffAugment
from inpaint_lightning.losses.distillation import DistillationLoss
from inpaint_lightning.losses.enhancement import UnpairedEnhancementLoss
from inpaint_lightning.losses.inpainting import InpaintingLoss, hole_total_variation, masked_l1
from inpaint_lightning.losses.objective import GANObjective, Objective, Phase
from inpaint_lightning.losses.perceptual import gram, perceptual_and_style
from inpaint_lightning.losses.restoration import RestorationLoss, charbonnier
from inpaint_lightning.losses.segmentation import SegmentationLoss, soft_dice_loss
from inpaint_lightning.models.vgg import VGGFeatures

__all__ = [
    "DiffAugment",
    "DistillationLoss",
    "GANObjective",
    "InpaintingLoss",
    "Objective",
    "Phase",
    "RestorationLoss",
    "SegmentationLoss",
    "UnpairedEnhancementLoss",
    "VGGFeatures",
    "charbonnier",
    "d_loss",
    "feature_matching",
    "g_loss",
    "gram",
    "hole_total_variation",
    "masked_l1",
    "perceptual_and_style",
    "r1_penalty",
    "soft_dice_loss",
]
