"""Callbacks: validation image panels for whichever logger is configured, and checkpointing that resumes."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor
from torchvision.utils import make_grid, save_image

from inpaint_lightning.captions import caption_strip
from inpaint_lightning.errors import StartupError, TrainingDiverged


class ImagePanels(L.Callback):
    """At each validation, log rows of masked input | baseline | output | clean for the first ``num_samples``
    samples, under a caption row naming the columns (the baseline column when the module scores one, e.g. Telea).

    Validation order and masks are fixed, so the same samples appear every epoch and every run: the panel shows
    the fill improving. W&B gets an image, TensorBoard an image summary, other loggers a PNG in their log dir.
    """

    def __init__(self, num_samples: int = 8, hole_color: float = 1.0) -> None:
        super().__init__()
        self.num_samples, self.hole_color = num_samples, hole_color
        self._rows: list[Tensor] = []
        self.columns: list[str] = []

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._rows = []

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        have = sum(r.shape[0] for r in self._rows)
        if have >= self.num_samples or not isinstance(outputs, dict) or "output" not in outputs:
            return
        take = self.num_samples - have
        shown_input = pl_module.task.shown_input(batch, self.hole_color)[:take]
        columns = [(pl_module.task.input_name, shown_input)]
        if "baseline" in outputs:
            columns.append((getattr(pl_module, "val_baseline", "baseline"), outputs["baseline"][:take]))
        columns += [
            ("output", outputs["output"][:take]),
            (pl_module.task.target_name, batch["target"][:take]),
        ]
        columns = [(name, images.expand(-1, 3, -1, -1)) for name, images in columns]  # masks shown grey
        self.columns = [name for name, _ in columns]
        rows = torch.stack([images.to(shown_input.device) for _, images in columns], dim=1)
        self._rows.append(rows.float().clamp(0, 1).cpu())

    def panel(self) -> Tensor | None:
        """The grid (3 x H x W): a caption row, then one row per sample with the columns of ``self.columns``."""
        if not self._rows:
            return None
        rows = torch.cat(self._rows)
        pad = 2
        grid = make_grid(rows.flatten(0, 1), nrow=rows.shape[1], padding=pad, pad_value=1.0)
        strip = caption_strip(self.columns, rows.shape[-1], pad, height=max(12, min(20, rows.shape[-1] // 5)))
        strip = torch.from_numpy(np.pad(strip, ((pad, 0), (pad, pad), (0, 0)), constant_values=255))
        return torch.cat([strip.permute(2, 0, 1).float().div(255), grid], dim=1)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        grid = self.panel()
        if grid is None or trainer.sanity_checking or not trainer.is_global_zero:
            return
        step = trainer.global_step
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                # uint8 HxWx3: recent wandb takes floats as 0-255 (no rescaling), so [0, 1] floats came out black
                pixels = grid.mul(255).round().byte().permute(1, 2, 0).numpy()
                logger.log_image("val/panel", [pixels], step=step, caption=[" | ".join(self.columns)])
            elif isinstance(logger, TensorBoardLogger):
                logger.experiment.add_image("val/panel", grid, global_step=step)
            elif logger.log_dir:  # CSV and any other logger with a folder
                folder = Path(logger.log_dir) / "panels"
                folder.mkdir(parents=True, exist_ok=True)
                save_image(grid, folder / f"val_step{step:07d}.png")


def checkpoint_bytes(module: torch.nn.Module) -> int:
    """About the size of one training checkpoint: weights and buffers, plus two Adam moments per trained weight."""
    size = sum(t.numel() * t.element_size() for t in (*module.parameters(), *module.buffers()))
    return size + 2 * sum(p.numel() * p.element_size() for p in module.parameters() if p.requires_grad)


class Checkpoint(ModelCheckpoint):
    """:class:`ModelCheckpoint` whose ``last.ckpt`` is rewritten at *every* validation and at the end of training.

    Since Lightning 2.5 ``save_last=True`` refreshes ``last.ckpt`` only when a top-k checkpoint is written in the
    same step: a validation that does not improve the monitored metric leaves ``last.ckpt`` behind, and
    ``fit --ckpt_path last`` would silently resume from an older step.

    At the start of ``fit`` it checks that its folder is writable and has room for a few checkpoints, so a
    wrong folder or a full disk fails at once in one line, not hours later at the first save. It never saves
    the model of a run stopped by a non-finite loss (:class:`~inpaint_lightning.errors.TrainingDiverged`).

    ``monitor="auto"`` (the CLI's default) watches the task's metric in its direction
    (:meth:`~inpaint_lightning.tasks.Task.monitored`: LPIPS, the task's L1 when LPIPS is off, F1 for damage).
    """

    #: Free space asked for at start-up, in checkpoints (two are on disk while ``last.ckpt`` is replaced).
    SPACE_FOR = 2

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.monitor == "auto":  # the task's metric (GANModule.monitored), with its direction
            self.monitor, self.mode = getattr(pl_module, "monitored", ("val/lpips", "min"))
            self.kth_value = torch.tensor(torch.inf if self.mode == "min" else -torch.inf)
        super().setup(trainer, pl_module, stage)
        if stage != "fit" or not self.dirpath or "://" in str(self.dirpath) or trainer.global_rank != 0:
            return
        folder = Path(self.dirpath)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as err:
            raise StartupError(f"checkpoint folder {folder} is not writable: {err.strerror or err}") from None
        rank_zero_info(f"checkpoints -> {folder}")
        need = self.SPACE_FOR * checkpoint_bytes(pl_module)
        free = shutil.disk_usage(folder).free
        if free < need:
            raise StartupError(
                f"checkpoint folder {folder} has {free / 2**20:.0f} MiB free; {self.SPACE_FOR} checkpoints of this "
                f"model need about {need / 2**20:.0f} MiB"
            )

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, TrainingDiverged):
            super().on_exception(trainer, pl_module, exception)

    def _refresh_last(self, trainer: L.Trainer) -> None:
        """Write ``last.ckpt`` through the public ``trainer.save_checkpoint`` (every rank calls it; the strategy
        writes once), unless nothing should be saved now: no ``save_last``, a sanity check, a fast dev run, or a
        stage other than ``fit``."""
        if not self.save_last or trainer.sanity_checking or trainer.fast_dev_run or self.dirpath is None:
            return
        if trainer.state.fn != "fit" or self._written_at == trainer.global_step:
            return  # already written at this step (a top-k save writes last.ckpt too), with the loop state of then
        values = {**trainer.callback_metrics, "epoch": trainer.current_epoch, "step": trainer.global_step}
        path = self.format_checkpoint_name(values, self.CHECKPOINT_NAME_LAST)
        trainer.save_checkpoint(path, weights_only=self.save_weights_only)
        self.last_model_path = path

    #: the step of the last checkpoint the trainer wrote (any callback's; None before the first)
    _written_at: int | None = None

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        super().on_save_checkpoint(trainer, pl_module, checkpoint)
        self._written_at = trainer.global_step

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self._refresh_last(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        self._refresh_last(trainer)


from lightning.pytorch.callbacks import BasePredictionWriter  # noqa: E402 - appended section


class PredictionWriter(BasePredictionWriter):
    """Writes every ``predict`` output as ``<output_dir>/<name>.png`` (name from the batch's ``name``, e.g. the
    image's stem with ``data.predict_images``; otherwise the sample index as ``000123``).

    Refuses an ``output_dir`` that is, or lies inside, ``data.predict_images``/``data.predict_masks`` (or holds
    one of them when it is a file), so inputs are never overwritten; samples flagged ``skipped`` (unreadable files, already warned about) are not written.
    """

    def __init__(self, output_dir: str = "predictions") -> None:
        super().__init__(write_interval="batch")
        self.output_dir = Path(output_dir)
        self.written = 0

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "predict":
            return
        from inpaint_lightning.data.mask_pairing import check_output_folder

        data = trainer.datamodule
        inputs = [getattr(data, attr, None) for attr in ("predict_images", "predict_masks")] if data else []
        check_output_folder(self.output_dir, *inputs, flag="PredictionWriter output_dir")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.written = 0

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        prediction: Any,
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        import numpy as np
        from PIL import Image

        outputs = prediction["output"].detach().float().clamp(0, 1).cpu()
        indices = [int(i) for i in prediction.get("index", batch.get("index", range(outputs.shape[0])))]
        names = batch.get("name") if isinstance(batch, dict) else None
        skipped = batch.get("skipped") if isinstance(batch, dict) else None
        for k, out in enumerate(outputs):
            if skipped is not None and bool(skipped[k]):
                continue
            name = str(names[k]) if names is not None else f"{indices[k]:06d}"
            pixels = (out.permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
            pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels  # damage probabilities: greyscale
            target = self.output_dir / f"{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)  # names keep input sub-folders
            Image.fromarray(pixels).save(target)
            self.written += 1


class BestMetricsSummary(L.Callback):
    """Best-so-far validation metrics in the W&B run summary (runs table, run comparison, sweeps).

    W&B's summary keeps only the last logged value unless told otherwise; this declares, for each metric,
    ``define_metric(name, summary="<min|max>,last")`` at the start of fit, so the run summary holds e.g.
    ``val/lpips: {"min": ..., "last": ...}`` and ``val/psnr: {"max": ..., "last": ...}`` (columns
    ``val/lpips.min``, ``val/psnr.max`` in the runs table). Other loggers are left alone.
    """

    def __init__(self, metrics: dict[str, str] | None = None) -> None:
        super().__init__()
        self.metrics = (
            dict(metrics)
            if metrics is not None
            else {"val/lpips": "min", "val/psnr": "max", "val/ssim": "max"}
        )
        for name, mode in self.metrics.items():
            if mode not in ("min", "max"):
                raise ValueError(f"BestMetricsSummary: mode of {name} must be min or max, got {mode!r}")

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not trainer.is_global_zero:
            return
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                run = logger.experiment  # WandbLogger's x-axis for every metric is trainer/global_step
                for name, mode in self.metrics.items():
                    run.define_metric(name, summary=f"{mode},last", step_metric="trainer/global_step")


class HoleBucketTable(L.Callback):
    """At each validation, PSNR/SSIM/L1-in-hole per hole-ratio bucket (10 % bins), as the evaluation protocol.

    Scores the composited validation outputs per image with :class:`~inpaint_lightning.evaluation.Scorer`
    (no LPIPS; PSNR/SSIM are the module's own per-image values, passed in its step output) and logs the table: W&B gets ``val/hole_buckets`` (a table, one row per bucket plus
    ``all``), TensorBoard a markdown text, other loggers a CSV in ``<log dir>/hole_buckets/``.
    """

    def __init__(self, key: str = "val/hole_buckets", bucket_width: float = 0.1) -> None:
        super().__init__()
        self.key, self.bucket_width = key, bucket_width
        self.scorer: Any = None

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from inpaint_lightning.evaluation.scorer import Scorer

        self.scorer = Scorer(lpips="off", keep=0, bucket_width=self.bucket_width)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if (
            self.scorer is None
            or not isinstance(outputs, dict)
            or "output" not in outputs
            or not getattr(getattr(pl_module, "task", None), "hole_buckets", False)
        ):
            return  # a table of the tasks with holes
        names = [f"{int(i):06d}" for i in batch["index"]]
        self.scorer.update(
            outputs["output"].float(), batch["target"].float(), batch["mask"].float(), names,
            scores=outputs.get("scores"),  # the module's per-image PSNR/SSIM: not computed twice
        )  # fmt: skip

    def rows(self) -> list[dict]:
        """The last validation's table: one dict per bucket, then ``all``."""
        from inpaint_lightning.evaluation.report import summary_rows

        if self.scorer is None or not self.scorer.records:
            return []
        return summary_rows(self.scorer.summary())

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.scorer is None or trainer.sanity_checking:
            return
        self.scorer.gather()
        rows = self.rows()
        if not rows or not trainer.is_global_zero:
            return
        columns = list(dict.fromkeys(k for row in rows for k in row))
        data = [[row.get(c) for c in columns] for row in rows]
        step = trainer.global_step
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_table(key=self.key, columns=columns, data=data, step=step)
            elif isinstance(logger, TensorBoardLogger):
                from inpaint_lightning.evaluation.report import format_table

                text = format_table(self.scorer.summary(), title=f"{self.key} (step {step})")
                logger.experiment.add_text(self.key, text, global_step=step)
            elif logger.log_dir:
                import csv

                folder = Path(logger.log_dir) / "hole_buckets"
                folder.mkdir(parents=True, exist_ok=True)
                with (folder / f"val_step{step:07d}.csv").open("w", newline="") as f:
                    writer = csv.writer(f)
                    writer.writerow(columns)
                    writer.writerows(data)
