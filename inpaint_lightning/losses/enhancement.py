"""The unpaired enhancement objective: learn a look from photos the user likes, with no pixel loss against pairs.

What keeps the content when nothing says what each output should be (EnlightenGAN, Jiang et al. 2021; Deep
Photo Enhancer, Chen et al. 2018; written from the papers' descriptions):

* **adversarial**: the discriminator tells enhanced photos from the reference photos; the generator learns the
  reference look;
* **identity**: a reference photo already has the look, so the generator should leave it as it is (DPE's
  identity loss; it also stops the generator from changing everything a little);
* **structure**: the enhanced photo keeps the input's content: L1 between instance-normalised VGG features of
  input and output (EnlightenGAN's self feature preserving loss; the normalisation discounts the brightness and
  contrast the generator is meant to change).

The batch's ``target`` is never used: the task hands the objective the references as ``real`` and the generator
ran on ``cat([photos, references])`` (:class:`~inpaint_lightning.tasks.EnhanceUnpairedTask`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from inpaint_lightning.losses.adversarial import AdversarialKind
from inpaint_lightning.losses.objective import GANObjective
from inpaint_lightning.models.layers import shrink_to
from inpaint_lightning.models.vgg import VGGFeatures


class UnpairedEnhancementLoss(GANObjective):
    """Adversarial + identity + structure (module docstring).

    Args:
        identity: weight of L1(G(reference), reference).
        structure: weight of the feature-preserving term; ``structure_layers`` the VGG16 layers it compares.
        structure_size: compare input and output shrunk to this longer side (None: as they are). Content is
            the photo's layout, which a small copy keeps, and VGG16 is most of a step's time at full size.
        adversarial / adversarial_weight / r1_gamma / ...: :class:`GANObjective`'s. Terms that compare the output
            with a paired target (LPIPS, perceptual, style, feature matching) are refused: there is no pair.
    """

    def __init__(
        self,
        *,
        identity: float = 5.0,
        structure: float = 1.0,
        structure_layers: tuple[str, ...] = ("relu3_3",),
        structure_size: int | None = None,
        adversarial: AdversarialKind = "lsgan",
        adversarial_weight: float = 1.0,
        **kwargs: Any,
    ) -> None:
        paired = [k for k in ("lpips_vgg", "perceptual", "style", "feature_matching") if kwargs.get(k)]
        if paired:
            raise ValueError(
                f"unpaired enhancement has no target to compare with: set {', '.join(paired)} to 0"
            )
        super().__init__(adversarial=adversarial, adversarial_weight=adversarial_weight, **kwargs)
        self.identity, self.structure, self.structure_size = identity, structure, structure_size
        self.features = VGGFeatures("vgg16", structure_layers) if structure else None

    def reconstruction(
        self, real: Tensor, stages: list[Tensor], condition: Tensor | None, inputs: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        if inputs is None or inputs.shape[0] <= real.shape[0]:
            raise ValueError("the generator must have run on cat([photos, references])")
        prediction, photos = stages[-1], inputs.shape[0] - real.shape[0]
        enhanced, kept = prediction[:photos], prediction[photos:]
        identity = F.l1_loss(kept, real)
        loss, logs = self.identity * identity, {"g/identity": identity.detach()}
        if self.features is not None:
            before, after = inputs[:photos], enhanced
            if self.structure_size:
                before, after = shrink_to(before, self.structure_size), shrink_to(after, self.structure_size)
            with torch.no_grad():
                theirs = self.features(before)
            ours = self.features(after)
            structure = sum(
                F.l1_loss(_normalised(a), _normalised(b)) for a, b in zip(ours, theirs, strict=True)
            )
            loss = loss + self.structure * structure
            logs["g/structure"] = structure.detach()
        return loss, logs


def _normalised(features: Tensor) -> Tensor:
    """Instance normalisation without parameters: each channel's mean and contrast removed."""
    return F.instance_norm(features.float())
