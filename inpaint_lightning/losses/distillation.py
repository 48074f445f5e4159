"""Distillation as MI-GAN trains its students (Sargsyan et al. 2023): a frozen teacher generator's fill is the
target in the hole; the realism terms and the discriminator (on real photos) are :class:`GANObjective`'s.

The teacher is any loadable inpainting generator (a ``fit`` or ``convert`` checkpoint, a published LaMa or
MI-GAN file), run once per generator update on what the student saw, under ``no_grad``, in eval mode. It is not
a submodule: it never trains, never moves with ``.train()``, and never enters the student's checkpoint, which
records its path (the hyper-parameters) and SHA-256 (this objective's extra state) instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.errors import StartupError
from inpaint_lightning.losses.adversarial import AdversarialKind
from inpaint_lightning.losses.inpainting import InpaintingLoss, masked_l1


class DistillationLoss(InpaintingLoss):
    """L1 to a frozen teacher's prediction in the hole, at every resolution from ``teacher_min_side`` px up
    (MI-GAN sums it over its student's to-RGB outputs from 32 px; here the final prediction, average-pooled, and
    the hole max-pooled, so a level sees the hole wherever it touches a pixel), plus every
    :class:`InpaintingLoss` term. Defaults are MI-GAN's ``migan_places512`` recipe: teacher L1 weight 2, no L1
    to the photo (``hole_l1``/``valid_l1`` 0), non-saturating adversarial loss of weight 1, R1 gamma 10 every
    16 discriminator steps (its optimizers, Adam 1e-3 with betas 0 and 0.99, are in ``configs/distill.yaml``).

    Args:
        teacher: the teacher's file (anything ``inpaint --checkpoint`` loads); its EMA weights when it has them.
        teacher_l1: weight of the teacher term.
        teacher_min_side: the coarsest level's side; levels halve from the image size down to it.
        Every other argument is :class:`InpaintingLoss`'s (and :class:`GANObjective`'s).
    """

    def __init__(
        self,
        *,
        teacher: str,
        teacher_l1: float = 2.0,
        teacher_min_side: int = 32,
        hole_l1: float = 0.0,
        valid_l1: float = 0.0,
        adversarial: AdversarialKind = "nsgan",
        adversarial_weight: float = 1.0,
        r1_gamma: float = 10.0,
        r1_interval: int = 16,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            hole_l1=hole_l1, valid_l1=valid_l1, adversarial=adversarial, adversarial_weight=adversarial_weight,
            r1_gamma=r1_gamma, r1_interval=r1_interval, **kwargs,
        )  # fmt: skip
        from inpaint_lightning.checkpoint import file_sha256, load_generator_and_task

        generator, task = load_generator_and_task(teacher, ema=True, map_location="cpu")  # eval, no grad
        if task != "inpaint":
            raise StartupError(f"the teacher {teacher} is a {task} model; distillation here fills holes")
        object.__setattr__(self, "teacher", generator)  # not a submodule: out of state_dict, .train(), .to()
        self.teacher_path, self.teacher_sha256 = str(teacher), file_sha256(teacher)
        self.teacher_l1, self.teacher_min_side = teacher_l1, teacher_min_side

    def _teach(self, inputs: Tensor) -> Tensor:
        """The teacher's raw prediction on the student's input (the teacher follows the input's device)."""
        teacher: nn.Module = self.teacher
        if next(teacher.parameters()).device != inputs.device:
            teacher.to(inputs.device)
        with torch.no_grad():
            return teacher(inputs).float()

    def reconstruction(
        self, real: Tensor, stages: list[Tensor], condition: Tensor | None, inputs: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        loss, logs = super().reconstruction(real, stages, condition, inputs)
        if inputs is None or condition is None:
            raise ValueError("DistillationLoss needs the generator's input and the hole mask")
        target, pred, mask = self._teach(inputs), stages[-1], condition.float()
        term = masked_l1(pred, target, mask)
        while min(pred.shape[-2:]) // 2 >= self.teacher_min_side:
            pred, target = F.avg_pool2d(pred, 2), F.avg_pool2d(target, 2)
            mask = F.max_pool2d(mask, 2)
            term = term + masked_l1(pred, target, mask)
        logs["g/teacher_l1"] = term.detach()
        return loss + self.teacher_l1 * term, logs

    def get_extra_state(self) -> dict[str, str]:
        return {"teacher": self.teacher_path, "teacher_sha256": self.teacher_sha256}

    def set_extra_state(self, state: Any) -> None:
        recorded = (state or {}).get("teacher_sha256")
        if recorded and recorded != self.teacher_sha256:
            warnings.warn(
                f"the teacher {self.teacher_path} is not the file this run started with (SHA-256 {recorded[:12]}... "
                f"then, {self.teacher_sha256[:12]}... now)",
                stacklevel=2,
            )


__all__ = ["DistillationLoss"]
