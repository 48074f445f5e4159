"""Tasks: the little that differs between inpainting, restoration and damage detection around the one training
step.

Every batch has the same keys, one contract for every task (as BasicSR's ``lq``/``gt``, named for what they are
in any task: restoration's pairs on disk keep BasicSR's ``lq/`` and ``gt/`` folders, which load as ``input`` and
``target``): ``input`` (what the model gets: the masked photo,
the degraded one, possibly smaller by the task's scale, or the damaged one), ``target`` (the clean photo; for
damage detection the damage mask), for inpainting ``mask`` (``B x 1 x H x W``, 1 = hole) and for non-blind
deblurring ``kernel`` (``B x 1 x k x k``, the known blur). A task says how
``input`` (and ``mask``) become the generator's input, what of the prediction metrics and losses see, how it is
scored, which classical method is the reference on the same samples, and how the input is shown next to the output.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from inpaint_lightning.composite import composite
from inpaint_lightning.evaluation.metrics import ImageMetrics
from inpaint_lightning.evaluation.segmentation import SegmentationMetrics


def _uint8_images(images: Tensor) -> np.ndarray:
    """``B x 3 x H x W`` in [0, 1] -> ``B x H x W x 3`` uint8 on the CPU: what the OpenCV baselines take."""
    return images.float().clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


class Task(ABC):
    """Base of :class:`InpaintTask`, :class:`RestoreTask`, :class:`DeconvolveTask` and :class:`DetectTask`."""

    name: str
    #: classical references this task offers as ``val_baseline``
    baselines: tuple[str, ...] = ()
    #: what ``target`` is, as the panels caption it
    target_name: str = "clean"
    #: what the input column of the panels is called
    input_name: str = "input"
    #: validation also tabulates the metrics per hole-ratio bucket (:class:`~inpaint_lightning.callbacks.HoleBucketTable`)
    hole_buckets: bool = False
    #: ``test`` runs the evaluation protocol of ``evaluate`` (images out); False: the validation metrics
    evaluated_as_images: bool = True
    #: the validation L1 the module logs as ``val/<name>`` (inpainting: in the hole only)
    l1_metric: str = "l1"
    #: channels of :meth:`generator_input` (a generator declaring other ``in_channels`` is refused)
    input_channels: int = 3
    #: the inference class that runs this task's models (a dotted path: the loaders, ``serve`` and the page use it)
    inference: str = "inpaint_lightning.inference.Restorer"
    #: what a model of this task is and how to run it, for a loader that was given the wrong kind of model
    summary: str = "a restoration model: use Restorer (or the restore command)"
    #: the ``evaluate`` protocols that score this task's models: ``holes`` (image/mask pairs), ``degradations``
    #: (clean images degraded by presets), ``pairs`` (real lq/gt folders); none: scored by ``test``
    evaluated_on: tuple[str, ...] = ("degradations", "pairs")
    #: the data's task it trains on (its corruption's ``task``); None: its own name
    trains_on: str | None = None
    #: its training batches need ``reference`` photos (``data.reference``)
    needs_reference: bool = False
    #: how to score a model of this task, for ``evaluate`` given the wrong protocol
    evaluate_with: str = "pass --degradation or --lq"
    #: the exported graph's input and output, in words (``{scale}`` is the model's)
    export_io: str = (
        "input 'input' B x 3 x H x W (degraded RGB in [0, 1]); output 'output' B x 3 x {scale}H x {scale}W "
        "(clamp to [0, 1])"
    )

    def export_contract(self, scale: int = 1, multiple: int | str = "size_multiple") -> str:
        """The exported graph's contract in words (export metadata and the ``export`` command)."""
        sides = f"batch, H and W dynamic, H and W multiples of {multiple} and at least min_side"
        return f"{self.export_io.format(scale=scale)}; {sides}"

    def example_input(self, batch: int, h: int, w: int, generator: torch.Generator) -> Tensor:
        """A random valid generator input (exports trace and check with it)."""
        return torch.rand(batch, self.input_channels, h, w, generator=generator)

    def monitored(self, lpips: bool) -> tuple[str, str]:
        """The validation metric that selects checkpoints and drives plateau schedulers, and whether lower
        (``min``) or higher (``max``) is better: LPIPS when it is computed, else the task's L1."""
        return ("val/lpips", "min") if lpips else (f"val/{self.l1_metric}", "min")

    def y_border(self, scale: int) -> int | None:
        """Pixels cut from each side for Y-channel PSNR/SSIM (None: no Y-channel metrics)."""
        return None

    def metrics(self, prefix: str, lpips: Any, scale: int = 1) -> ImageMetrics | SegmentationMetrics:
        """The epoch metrics of this task (PSNR/SSIM/LPIPS on images by default)."""
        return ImageMetrics(prefix, lpips, self.y_border(scale))

    def real(self, batch: dict[str, Tensor]) -> Tensor:
        """What the objective compares the output with in training: the discriminator's real images and the
        pixel terms' target (paired tasks: the clean ``target``)."""
        return batch["target"]

    def condition(self, batch: dict[str, Tensor]) -> Tensor | None:
        """What the discriminator and the objective see beside the image (StyleGAN2's ``c``): None by default."""
        return None

    def l1_region(self, batch: dict[str, Tensor]) -> Tensor:
        """Where the validation L1 (``val/<l1_metric>``) is measured: the whole image by default."""
        return torch.ones_like(batch["target"][:, :1])

    def default_loss(self) -> Any:
        """The objective used when the config names none."""
        raise ValueError(f"the {self.name} task has no default objective: set model.loss")

    def check_baseline(self, name: str) -> None:
        if name != "off" and name not in self.baselines:
            raise ValueError(
                f"val_baseline {name!r} does not apply to {self.name}; choose one of {', '.join(self.baselines)} "
                f"or off"
            )

    @abstractmethod
    def generator_input(self, batch: dict[str, Tensor]) -> Tensor:
        """What the generator is called with."""

    @abstractmethod
    def output(self, prediction: Tensor, batch: dict[str, Tensor]) -> Tensor:
        """The prediction as metrics, panels and the realism losses see it (in [0, 1])."""

    @abstractmethod
    def baseline(self, name: str, batch: dict[str, Tensor]) -> Tensor:
        """The classical method ``name`` on the batch (float32, target size, on the batch's device)."""

    @abstractmethod
    def shown_input(self, batch: dict[str, Tensor], hole_color: float = 1.0) -> Tensor:
        """The input as a person should see it beside the output (target size)."""


class InpaintTask(Task):
    """Fill holes: the generator sees the masked photo and the mask (``B x 4``); known pixels are kept exactly
    (``mask * clamp(prediction) + (1 - mask) * input``); the reference is OpenCV's Telea or Navier-Stokes fill."""

    name = "inpaint"
    baselines = ("telea", "ns")
    l1_metric = "l1_hole"
    input_channels = 4
    input_name = "masked input"
    hole_buckets = True
    inference = "inpaint_lightning.inference.Inpainter"
    summary = "an inpainting model: use Inpainter (or the inpaint command)"
    evaluated_on = ("holes",)
    evaluate_with = "pass image/mask pairs (--images, --masks), not --degradation/--lq"
    export_io = (
        "input 'input' B x 4 x H x W (masked RGB in [0, 1] ++ mask, 1 = hole; with prefill=patchmatch the hole "
        "already holds a PatchMatch fill); output 'output' B x 3 x H x W raw prediction (composite: "
        "mask * clamp(output, 0, 1) + (1 - mask) * image)"
    )

    def example_input(self, batch: int, h: int, w: int, generator: torch.Generator) -> Tensor:
        x = torch.rand(batch, 4, h, w, generator=generator)
        x[:, 3:] = (x[:, 3:] > 0.6).float()
        x[:, :3] *= 1.0 - x[:, 3:]
        return x

    def condition(self, batch: dict[str, Tensor]) -> Tensor | None:
        """The hole mask: the discriminator sees where the hole is, the objective weighs and labels by it."""
        return batch["mask"]

    def l1_region(self, batch: dict[str, Tensor]) -> Tensor:
        return batch["mask"]

    def default_loss(self) -> Any:
        from inpaint_lightning.losses import InpaintingLoss

        return InpaintingLoss()

    def generator_input(self, batch: dict[str, Tensor]) -> Tensor:
        return torch.cat([batch["input"], batch["mask"]], dim=1)

    def output(self, prediction: Tensor, batch: dict[str, Tensor]) -> Tensor:
        return composite(prediction, batch["input"], batch["mask"])

    def baseline(self, name: str, batch: dict[str, Tensor]) -> Tensor:
        from inpaint_lightning.evaluation import baseline

        fill = baseline(name)
        masked, mask = batch["input"], batch["mask"]
        pixels = _uint8_images(masked)
        holes = mask[:, 0].float().cpu().numpy()
        filled = np.stack([fill(p, h) for p, h in zip(pixels, holes, strict=True)])
        pred = torch.from_numpy(filled).permute(0, 3, 1, 2).to(masked.device, torch.float32).div(255)
        return composite(pred, masked.float(), mask.float())

    def shown_input(self, batch: dict[str, Tensor], hole_color: float = 1.0) -> Tensor:
        mask = batch["mask"]
        return batch["input"] * (1 - mask) + hole_color * mask


class RestoreTask(Task):
    """Restore (denoise, deblur, super-resolve, JPEG, low light): the generator sees the degraded photo
    (``B x 3``, ``1 / scale`` of the target's size) and predicts the whole clean one; the reference is bicubic
    up-scaling of the input (the input itself when ``scale`` is 1)."""

    name = "restore"
    baselines = ("bicubic",)

    def y_border(self, scale: int) -> int | None:
        """``scale``: PSNR/SSIM also on Y with that border cut (the super-resolution papers' numbers)."""
        return scale

    def default_loss(self) -> Any:
        from inpaint_lightning.losses import RestorationLoss

        return RestorationLoss()

    def generator_input(self, batch: dict[str, Tensor]) -> Tensor:
        return batch["input"]

    def output(self, prediction: Tensor, batch: dict[str, Tensor]) -> Tensor:
        return prediction.clamp(0.0, 1.0)

    def baseline(self, name: str, batch: dict[str, Tensor]) -> Tensor:
        return self.shown_input(batch, mode="bicubic").float().clamp(0.0, 1.0)

    def shown_input(self, batch: dict[str, Tensor], hole_color: float = 1.0, mode: str = "nearest") -> Tensor:
        low, size = batch["input"], batch["target"].shape[-2:]
        if low.shape[-2:] == size:
            return low
        if mode == "nearest":
            return F.interpolate(low, size=size, mode="nearest")
        return F.interpolate(low.float(), size=size, mode=mode, align_corners=False)


class EnhanceUnpairedTask(RestoreTask):
    """Enhance towards the look of photos the user likes, without pairs (EnlightenGAN, DPE): training batches
    carry ``reference`` photos (``data.reference``) and no usable ``target``. The generator runs on the photos and
    the references together (its output on a reference is the identity loss's), the discriminator compares the
    enhanced photos with the references (:class:`~inpaint_lightning.losses.UnpairedEnhancementLoss`).
    Validation and inference are a restoration's: a photo in, the enhanced photo out."""

    name = "enhance_unpaired"
    trains_on, needs_reference = "restore", True

    def default_loss(self) -> Any:
        from inpaint_lightning.losses import UnpairedEnhancementLoss

        return UnpairedEnhancementLoss()

    def real(self, batch: dict[str, Tensor]) -> Tensor:
        if "reference" not in batch:
            raise ValueError(
                "the unpaired enhancement task trains on photos with the look you want: set --data.reference FOLDER"
            )
        return batch["reference"]

    def generator_input(self, batch: dict[str, Tensor]) -> Tensor:
        if "reference" in batch:  # training: the photos, then the references (for the identity term)
            return torch.cat([batch["input"], batch["reference"]])
        return batch["input"]

    def output(self, prediction: Tensor, batch: dict[str, Tensor]) -> Tensor:
        return prediction[: batch["input"].shape[0]].clamp(0.0, 1.0)


class DeconvolveTask(RestoreTask):
    """Non-blind deblurring: the blur ``kernel`` of each photo is known (``B x 1 x k x k``, a lens's or a
    tracked camera's point-spread function). The generator sees the blurred photo already Wiener-deconvolved with
    it (:func:`~inpaint_lightning.models.wiener.wiener_deconvolve`) and learns what the inverse filter leaves:
    ringing, amplified noise, the detail the kernel erased. The reference is that Wiener estimate."""

    name = "deconvolve"
    baselines = ("wiener", "bicubic")
    inference = "inpaint_lightning.inference.Deconvolver"
    summary = "a non-blind deblurring model: use Deconvolver (or the restore command with --kernel)"
    evaluated_on = ("degradations",)
    evaluate_with = "score it with --degradation presets (their kernels are known), not --lq pairs"
    export_io = (
        "input 'input' B x 3 x H x W (the blurred RGB in [0, 1] Wiener-deconvolved with its known kernel: "
        "inpaint_lightning.models.wiener.wiener_deconvolve, or Deconvolver.from_file does it); output 'output' "
        "B x 3 x H x W (clamp to [0, 1])"
    )

    def generator_input(self, batch: dict[str, Tensor]) -> Tensor:
        """The Wiener estimate; ``kernel`` is ``B x 1 x k x k`` or, as evaluation batches carry it, a list of
        each photo's kernel (None: no blur)."""
        from inpaint_lightning.data.degradations import pad_kernels
        from inpaint_lightning.models.wiener import wiener_deconvolve

        if "kernel" not in batch:
            raise KeyError("a deconvolve batch needs the blur 'kernel' (DegradeCorruption with kernel_size)")
        kernel = batch["kernel"]
        if isinstance(kernel, list | tuple):
            kernel = pad_kernels(list(kernel)).to(batch["input"].device)
        return wiener_deconvolve(batch["input"], kernel)

    def baseline(self, name: str, batch: dict[str, Tensor]) -> Tensor:
        if name == "wiener":
            return self.generator_input(batch).float().clamp(0.0, 1.0)
        return super().baseline(name, batch)


class DetectTask(Task):
    """Find old-photo damage (scratches, cracks, dust, tears, stains): the generator sees the damaged photo
    (``B x 3``) and predicts one logit per pixel; the output is the damage probability (``B x 1``), the target the
    true damage mask, scored by IoU/F1; the reference is the morphological top-hat detector. No discriminator."""

    name = "detect"
    baselines = ("tophat",)
    target_name = "damage"
    evaluated_as_images = False
    inference = "inpaint_lightning.inference.DamageDetector"
    summary = "a damage detector: use DamageDetector (or the detect command, or repair --detect-checkpoint)"
    evaluated_on = ()
    evaluate_with = (
        "score it with `test --config configs/tasks/damage.yaml --ckpt_path ...` (IoU/F1 on held-out synthetic "
        "damage)"
    )
    export_io = (
        "input 'input' B x 3 x H x W (RGB in [0, 1]); output 'output' B x 1 x H x W damage logits (damage "
        "where sigmoid > 0.5)"
    )

    def generator_input(self, batch: dict[str, Tensor]) -> Tensor:
        return batch["input"]

    def output(self, prediction: Tensor, batch: dict[str, Tensor]) -> Tensor:
        return torch.sigmoid(prediction.float())

    def metrics(self, prefix: str, lpips: Any, scale: int = 1) -> SegmentationMetrics:
        return SegmentationMetrics(prefix)

    def monitored(self, lpips: bool) -> tuple[str, str]:
        return "val/f1", "max"

    def default_loss(self) -> Any:
        from inpaint_lightning.losses import SegmentationLoss

        return SegmentationLoss()

    def baseline(self, name: str, batch: dict[str, Tensor]) -> Tensor:
        from inpaint_lightning.evaluation.segmentation import DETECTORS

        pixels = _uint8_images(batch["input"])
        found = np.stack([DETECTORS[name](p) for p in pixels])
        return torch.from_numpy(found)[:, None].to(batch["input"].device, torch.float32)

    def shown_input(self, batch: dict[str, Tensor], hole_color: float = 1.0) -> Tensor:
        return batch["input"]


#: Every task by name: what ``model.task``, checkpoints and exports name. Add one with :func:`register_task`.
TASKS: dict[str, type[Task]] = {
    "inpaint": InpaintTask, "restore": RestoreTask, "deconvolve": DeconvolveTask, "detect": DetectTask,
    "enhance_unpaired": EnhanceUnpairedTask,
}  # fmt: skip


def register_task(cls: type[Task]) -> type[Task]:
    """Make ``cls`` (a :class:`Task` subclass with a new ``name``) available to training, the loaders, export
    and the service by its name; usable as a class decorator."""
    if not (isinstance(cls, type) and issubclass(cls, Task)) or not getattr(cls, "name", None):
        raise TypeError(f"register_task takes a Task subclass with a name, got {cls!r}")
    if TASKS.get(cls.name, cls) is not cls:
        raise ValueError(
            f"a different task is already registered as {cls.name!r}: {TASKS[cls.name].__name__}"
        )
    TASKS[cls.name] = cls
    return cls


def task_named(name: str) -> Task:
    """The registered task ``name`` (``ValueError`` naming the registered ones otherwise)."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; registered: {', '.join(TASKS)}")
    return TASKS[name]()


def inference_class(name: str) -> type:
    """The inference class (``Inpainter``, ``Restorer``...) that runs models of task ``name``."""
    module, _, attr = task_named(name).inference.rpartition(".")
    return getattr(importlib.import_module(module), attr)
