"""The damage detector's objective: per-pixel binary cross-entropy plus soft Dice on the damage logits.

Damage covers a few percent of a photo, so plain BCE is content with predicting "no damage" almost everywhere;
Dice scores the overlap itself and does not care how rare the class is (V-Net; the usual pair for thin-structure
segmentation such as cracks and vessels). No discriminator: :class:`~inpaint_lightning.module.GANModule` trains
the network alone when ``discriminator`` is null.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.losses.objective import Objective


def soft_dice_loss(logits: Tensor, target: Tensor, eps: float = 1.0) -> Tensor:
    """``1 - 2|P*T| / (|P| + |T|)`` per image on probabilities ``P = sigmoid(logits)``, averaged over the batch."""
    prob = torch.sigmoid(logits.float()).flatten(1)
    truth = target.float().flatten(1)
    inter = (prob * truth).sum(1)
    return (1 - (2 * inter + eps) / (prob.sum(1) + truth.sum(1) + eps)).mean()


class SegmentationLoss(Objective):
    """``bce * BCE(logits, mask; pos_weight) + dice * soft Dice``, on every stage's raw logits (final one last).

    Args:
        bce / dice: weights of the two terms.
        pos_weight: BCE weight of damaged pixels (rare; Dice already balances them: 3 instead of 1 raised recall
            and cost more precision, validation F1 0.698 vs 0.720 after 15 CPU minutes).
    """

    def __init__(self, bce: float = 1.0, dice: float = 1.0, pos_weight: float = 1.0) -> None:
        super().__init__()
        self.bce, self.dice, self.pos_weight = bce, dice, pos_weight

    def generator_loss(
        self,
        discriminator: nn.Module | None,
        real: Tensor,
        stages: Tensor | list[Tensor],
        output: Tensor,
        mask: Tensor | None = None,
        step: int = 0,
        inputs: Tensor | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``real`` is the true damage mask; ``stages`` the raw logits (``output``, the probabilities, is unused)."""
        stages = stages if isinstance(stages, list) else [stages]
        pos = torch.tensor(self.pos_weight, device=real.device)
        bce = sum(F.binary_cross_entropy_with_logits(s.float(), real.float(), pos_weight=pos) for s in stages)
        dice = sum(soft_dice_loss(s, real) for s in stages)
        loss = self.bce * bce + self.dice * dice
        return loss, {"g/bce": bce.detach(), "g/dice": dice.detach(), "g/loss": loss.detach()}
