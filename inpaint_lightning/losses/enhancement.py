"""The unpaired enhancement objective: learn a look from photos the user likes, with no pixel loss against pairs.

What keeps the content when nothing says what each output should be (EnlightenGAN, Jiang et al. 2021; Deep
Photo Enhancer, Chen et al. 2018; written from the papers' descriptions):

* **adversarial**: the discriminator tells enhanced photos from the reference photos; the generator learns the
  reference look;
* **identity**: a reference photo already has the look, so the generator should leave it as it is (DPE's
  identity loss; it also stops the generator from changing everything a little);
* **structure**: the enhanced photo keeps the input's content. ``structure_on="vgg"``: L1 between
  instance-normalised VGG features of input and output (EnlightenGAN's self feature preserving loss; the
  normalisation discounts global brightness and contrast). It also charges local contrast, one of the edits
  to undo: raising it by 1 costs as much as swapping in a 48 px patch of another photo. ``structure_on="luma"``:
  SSIM's structure term on luma (the local correlation of input and output), blind to local brightness and
  contrast but not to moved, blurred or invented detail: local contrast +1 costs a thirtieth of a 2 px shift;
* **colour** (optional): luma structure is blind to colour, so colour is held apart: the output's coarse
  colour layout must be one global colour map of the input's (a quadratic map of cell colours, fitted per
  photo): white balance and saturation are free, a sky turned peach while the rest stays is not.

The batch's ``target`` is never used: the task hands the objective the references as ``real`` and the generator
ran on ``cat([photos, references])`` (:class:`~inpaint_lightning.tasks.EnhanceUnpairedTask`).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from inpaint_lightning.losses.adversarial import AdversarialKind
from inpaint_lightning.losses.objective import GANObjective
from inpaint_lightning.models.layers import LUMA, gaussian_blur, luma, shrink_to
from inpaint_lightning.models.vgg import VGGFeatures


class UnpairedEnhancementLoss(GANObjective):
    """Adversarial + identity + structure (module docstring).

    Args:
        identity: weight of L1(G(reference), reference).
        structure: weight of the content-keeping term; ``structure_on`` what it compares (module docstring):
            ``vgg`` (the VGG16 ``structure_layers``) or ``luma`` (SSIM's structure, window ``structure_sigma``).
        colour: weight of the colour-layout term on a ``colour_cells`` x ``colour_cells`` grid (0: off).
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
        structure_on: Literal["vgg", "luma"] = "vgg",
        structure_layers: tuple[str, ...] = ("relu3_3",),
        structure_sigma: float = 1.5,
        structure_size: int | None = None,
        colour: float = 0.0,
        colour_cells: int = 8,
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
        if structure_on not in ("vgg", "luma"):
            raise ValueError(f"structure_on must be vgg or luma, got {structure_on!r}")
        self.identity, self.structure, self.structure_size = identity, structure, structure_size
        self.structure_sigma, self.colour, self.colour_cells = structure_sigma, colour, colour_cells
        use_vgg = bool(structure) and structure_on == "vgg"
        self.features = VGGFeatures("vgg16", structure_layers) if use_vgg else None

    def reconstruction(
        self, real: Tensor, stages: list[Tensor], condition: Tensor | None, inputs: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        if inputs is None or inputs.shape[0] <= real.shape[0]:
            raise ValueError("the generator must have run on cat([photos, references])")
        prediction, photos = stages[-1], inputs.shape[0] - real.shape[0]
        enhanced, kept = prediction[:photos], prediction[photos:]
        identity = F.l1_loss(kept, real)
        loss, logs = self.identity * identity, {"g/identity": identity.detach()}
        before, after = inputs[:photos], enhanced
        if self.structure:
            if self.structure_size:
                before, after = shrink_to(before, self.structure_size), shrink_to(after, self.structure_size)
            structure = self._structure(before, after)
            loss = loss + self.structure * structure
            logs["g/structure"] = structure.detach()
        if self.colour:
            colour = colour_layout(inputs[:photos], enhanced, self.colour_cells)
            loss = loss + self.colour * colour
            logs["g/colour"] = colour.detach()
        return loss, logs

    def _structure(self, before: Tensor, after: Tensor) -> Tensor:
        if self.features is None:
            return luma_structure(before, after, self.structure_sigma)
        with torch.no_grad():
            theirs = self.features(before)
        ours = self.features(after)
        return sum(F.l1_loss(_normalised(a), _normalised(b)) for a, b in zip(ours, theirs, strict=True))


def luma_structure(before: Tensor, after: Tensor, sigma: float = 1.5) -> Tensor:
    """1 - SSIM's structure term (the local correlation in a Gaussian window of ``sigma``) between the lumas:
    0 where ``after`` is any local brightness and contrast change of ``before``, up to 2 where detail reverses."""
    a, b = luma(before), luma(after)
    blur = lambda x: gaussian_blur(x, sigma)  # noqa: E731
    mean_a, mean_b = blur(a), blur(b)
    var_a = (blur(a * a) - mean_a**2).clamp_min(0)
    var_b = (blur(b * b) - mean_b**2).clamp_min(0)
    covariance = blur(a * b) - mean_a * mean_b
    c = 0.03**2 / 2  # SSIM's C3: flat regions count as matching
    return (1 - (covariance + c) / ((var_a * var_b + 1e-12).sqrt() + c)).mean()


def colour_layout(before: Tensor, after: Tensor, cells: int = 8) -> Tensor:
    """How far the chroma of ``after``'s cells is from the best global colour map of ``before``'s cells (a
    quadratic map of each cell's mean RGB, least squares per photo; mean absolute residual). A white balance,
    a saturation or a tone curve over the whole photo cost (almost) nothing; a change in one region does."""
    a = F.adaptive_avg_pool2d(before.float(), cells).flatten(2).transpose(1, 2)  # B x cells² x 3
    b = F.adaptive_avg_pool2d(after.float(), cells).flatten(2).transpose(1, 2)
    design = torch.cat([a, a * a, torch.ones_like(a[..., :1])], -1)  # B x cells² x 7
    grey = b @ b.new_tensor(LUMA).view(3, 1)
    chroma = torch.cat([b[..., :1] - grey, b[..., 2:] - grey], -1)  # red and blue minus luma
    gram = design.transpose(1, 2) @ design + 1e-4 * torch.eye(design.shape[-1], device=design.device)
    fit = design @ torch.linalg.solve(gram, design.transpose(1, 2) @ chroma)
    return (fit - chroma).abs().mean()


def _normalised(features: Tensor) -> Tensor:
    """Instance normalisation without parameters: each channel's mean and contrast removed."""
    return F.instance_norm(features.float())
