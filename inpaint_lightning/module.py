"""The LightningModule of every task: one discriminator step then one generator step per batch (manual
optimization; the generator step alone without a discriminator). What differs between inpainting, restoration and
damage detection is a :class:`~inpaint_lightning.tasks.Task` and
the objective (:class:`~inpaint_lightning.losses.InpaintingLoss`, :class:`~inpaint_lightning.losses.RestorationLoss`,
or :class:`~inpaint_lightning.losses.SegmentationLoss` for the damage detector, which has no discriminator).

Networks, the loss object, optimizers and schedulers are all init arguments (``class_path``/``init_args`` in
YAML), so a new architecture or loss never edits this file.

**One training step = one batch = one D update + one G update.** Lightning counts every optimizer step in
``global_step`` under manual optimization, which would make ``max_steps: 1000`` stop after 500 batches; the
discriminator's step is therefore not counted, and ``max_steps``, ``every_n_train_steps``, schedulers with
``interval: step`` and the logged step all count batches (= generator updates).
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn

from inpaint_lightning.checkpoint import load_trusted
from inpaint_lightning.ema import update_ema
from inpaint_lightning.errors import StartupError, TrainingDiverged
from inpaint_lightning.evaluation.lightning import save_test_results
from inpaint_lightning.evaluation.metrics import ImageMetrics, region_l1
from inpaint_lightning.evaluation.scorer import Scorer
from inpaint_lightning.evaluation.segmentation import SegmentationMetrics
from inpaint_lightning.losses.objective import Objective
from inpaint_lightning.models.contract import contract_of
from inpaint_lightning.optim import GANAdam
from inpaint_lightning.pretrained import LpipsNet, make_lpips
from inpaint_lightning.tasks import Task, task_named


class GANModule(L.LightningModule):
    """GAN training for inpainting and restoration on batches ``{input, target[, mask]}``.

    Args:
        generator: inpainting: ``B x 4 x H x W`` (masked RGB, mask) to ``B x 3 x H x W``; restoration:
            ``B x 3 x h x w`` (degraded) to ``B x 3 x H x W`` (``H = scale * h``). Trained towards [0, 1].
        discriminator: maps (image, the task's condition: inpainting's mask, else None) to patch logits; None
            trains the generator alone (the damage detector's segmentation task).
        loss: the objective with ``discriminator_loss``/``generator_loss`` phases
            (:class:`~inpaint_lightning.losses.objective.GANObjective`), or the generator phase alone
            (:class:`~inpaint_lightning.losses.SegmentationLoss`).
        task: ``inpaint``, ``restore``, ``deconvolve`` (non-blind deblurring), ``detect``, or a task of yours added
            with :func:`~inpaint_lightning.tasks.register_task` (:mod:`inpaint_lightning.tasks`): the generator's input, what metrics see (inpainting composites the
            known pixels back), the metrics, the classical reference.
        g_optimizer / d_optimizer: optimizer factories for generator and discriminator.
        g_scheduler / d_scheduler: optional LR scheduler factories.
        scheduler_interval: step schedulers every ``epoch`` or every ``step`` (batch).
        gradient_clip_val: clip each network's gradient norm to this (on unscaled gradients under 16-mixed).
        ema_decay: keep an exponential moving average of the generator with this decay (None: no EMA). The EMA
            generator is what validation, test, predict and export use, and it is saved in checkpoints.
        ema_start: global step from which weights are averaged; before it the EMA copies the generator. The
            decay warms up from 0.18 to ``ema_decay`` over the following steps (see ``_ema_decay_now``).
        channels_last: keep the networks' weights and every image batch in channels-last (NHWC) memory order, the
            layout tensor cores use under AMP (frozen loss networks follow their input). Off by default: on a
            2-core CPU it made a step 10 % slower (docs/scaling.md).
        lpips: LPIPS backbone for validation/test (``alex``, ``vgg``) or ``off``.
        on_missing_weights: when LPIPS weights are absent offline: ``error`` at start-up, or ``disable`` LPIPS.
        init_from: fine-tune: a checkpoint whose generator (its EMA weights when it has them) the generator and
            its EMA start from, when a run starts (before a resumed run's own weights replace them): a ``fit`` or
            ``convert`` checkpoint, or a published LaMa ``best.ckpt`` / MI-GAN ``.pt``. ``model.generator`` must
            be its architecture (the error names it). Its discriminator's weights are used when the file has
            them and they fit ``model.discriminator``; otherwise the discriminator starts fresh (warm it up with
            the objective's ``discriminator_warmup``). Checkpoints record the source's path and SHA-256.
        freeze_batchnorm: keep the generator's BatchNorm layers in eval mode while training: their running
            statistics stay the source's (batch statistics of a few images drift from them; LaMa's generator is
            a BatchNorm one), their scale and shift still train.
        val_baseline: a classical method scored on the same validation samples and logged as
            ``val/<name>/psnr|ssim|lpips`` (and shown in the panels), so the model's numbers have a reference
            point from the first validation on: ``telea`` or ``ns`` fills (inpainting), ``bicubic`` up-scaling
            (restoration), ``wiener`` with the known kernel (non-blind deblurring), the ``tophat`` detector
            (damage); ``auto`` is the task's first, ``off`` skips it.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module | None = None,
        loss: Objective | None = None,
        task: str = "inpaint",
        g_optimizer: OptimizerCallable = GANAdam,
        d_optimizer: OptimizerCallable = GANAdam,
        g_scheduler: LRSchedulerCallable | None = None,
        d_scheduler: LRSchedulerCallable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        gradient_clip_val: float | None = None,
        ema_decay: float | None = 0.999,
        ema_start: int = 0,
        channels_last: bool = False,
        lpips: LpipsNet = "alex",
        on_missing_weights: Literal["error", "disable"] = "error",
        val_baseline: Literal["auto", "telea", "ns", "bicubic", "wiener", "tophat", "off"] = "auto",
        init_from: str | None = None,
        freeze_batchnorm: bool = False,
    ) -> None:
        super().__init__()
        # Through LightningCLI the hparams are the YAML's class_path/init_args (so a checkpoint alone rebuilds the
        # networks); from plain Python they would be module objects, which do not belong in hparams.
        with warnings.catch_warnings():  # Lightning's "is an nn.Module" advice: handled just below
            warnings.simplefilter("ignore")
            self.save_hyperparameters()
        if any(isinstance(self.hparams.get(k), nn.Module) for k in ("generator", "discriminator", "loss")):
            self.save_hyperparameters(ignore=["generator", "discriminator", "loss"])
        self.automatic_optimization = False
        self.generator, self.discriminator = generator, discriminator  # the recipe's live in configs/gan.yaml
        self.task: Task = task_named(task)  # ValueError naming the registered tasks
        val_baseline = self.task.baselines[0] if val_baseline == "auto" else val_baseline
        self.task.check_baseline(val_baseline)
        self.loss = loss if loss is not None else self.task.default_loss()
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.g_scheduler, self.d_scheduler = g_scheduler, d_scheduler
        self.scheduler_interval = scheduler_interval
        self.gradient_clip_val = gradient_clip_val
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) or null, got {ema_decay}")
        self.ema_decay, self.ema_start = ema_decay, ema_start
        self.generator_ema: nn.Module | None = None
        if ema_decay is not None:
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:  # 4-D weights only; optimizer states are created alike (zeros_like)
            self.to(memory_format=torch.channels_last)
        lpips_metric = make_lpips(lpips, on_missing_weights)
        # A plain dict, not submodules: metric networks stay out of checkpoints and the model summary.
        # Restoration also logs Y-channel PSNR/SSIM with a border of `scale` pixels cut (the SR papers' numbers).
        self.contract = contract_of(generator)
        if self.contract.in_channels not in (None, self.task.input_channels):
            raise ValueError(
                f"{type(generator).__name__} takes {self.contract.in_channels} input channels; the {self.task.name} "
                f"task gives its generator {self.task.input_channels}"
            )
        self.scale = self.contract.scale
        self.y_border = self.task.y_border(self.scale)
        self.metrics: dict[str, ImageMetrics | SegmentationMetrics] = {
            "val": self.task.metrics("val/", lpips_metric, self.scale)
        }
        self.val_baseline = val_baseline
        if val_baseline != "off":  # its own LPIPS instance: metric states must not mix with the model's
            baseline_lpips = make_lpips(lpips, on_missing_weights) if lpips_metric is not None else None
            self.metrics["val_baseline"] = self.task.metrics(
                f"val/{val_baseline}/", baseline_lpips, self.scale
            )
        # `test` follows the evaluation protocol (per-image metrics, hole-ratio buckets, saved tables) with
        # the same code as `python -m inpaint_lightning evaluate`; built when a test starts.
        self.lpips_net: LpipsNet = lpips if lpips_metric is not None else "off"
        #: (metric, "min" | "max"): what selects checkpoints (``--checkpoint.monitor auto``) and drives
        #: ReduceLROnPlateau; the task decides, by whether LPIPS is computed.
        self.monitored: tuple[str, str] = self.task.monitored(self.lpips_net != "off")
        self.scorer: Scorer | None = None
        self.init_from, self.freeze_batchnorm = init_from, freeze_batchnorm
        #: what the weights started from ({path, sha256}), once :meth:`setup` loaded ``init_from``; checkpoints
        #: carry it, and a module restored from one does not load the source again
        self.source: dict[str, str] | None = None

    # ------------------------------------------------------------------------------------------- fine-tuning
    def _ensure_source(self) -> None:
        """Load ``init_from`` once, when a stage starts: after a checkpoint given to the trainer was restored
        (``on_load_checkpoint`` marks its weights as already started), before the first validation."""
        if self.init_from is not None and self.source is None:
            self._start_from(self.init_from)

    def on_fit_start(self) -> None:
        self._ensure_source()
        if self.freeze_batchnorm:  # Lightning keeps each layer's mode from here on (and after validations)
            self.train()

    def on_test_start(self) -> None:
        self._ensure_source()

    def on_predict_start(self) -> None:
        self._ensure_source()

    def _start_from(self, path: str) -> None:
        """Load the generator (and EMA, and a fitting discriminator) of ``path``; one line when it cannot."""
        from inpaint_lightning.checkpoint import file_sha256, read_source

        source = read_source(path)
        if source.task != self.task.name:
            raise StartupError(
                f"model.init_from {path} is a {source.task} model; this run's task is {self.task.name}"
            )
        try:
            self.generator.load_state_dict(source.generator_state)
        except RuntimeError:
            raise StartupError(
                f"model.init_from {path} holds a different generator: set --model.generator "
                f"'{json.dumps(dict(source.generator))}'"
            ) from None
        if self.generator_ema is not None:
            self.generator_ema.load_state_dict(self.generator.state_dict())
        critic = "fresh"
        if self.discriminator is not None and source.discriminator_state is not None:
            own = self.discriminator.state_dict()
            theirs = source.discriminator_state
            if own.keys() == theirs.keys() and all(own[k].shape == theirs[k].shape for k in own):
                self.discriminator.load_state_dict(theirs)  # the same architecture (else it starts fresh)
                critic = "the source's"
        self.source = {"path": str(path), "sha256": file_sha256(path)}
        rank_zero_info(f"fine-tuning from {path} (generator and EMA; discriminator: {critic})")

    def train(self, mode: bool = True) -> GANModule:
        super().train(mode)
        if mode and self.freeze_batchnorm:
            for layer in self.generator.modules():
                if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d | nn.SyncBatchNorm):
                    layer.eval()
        return self

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.source is not None:
            checkpoint["initialised_from"] = dict(self.source)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # the weights come from the checkpoint: init_from must not replace them (a resumed or reloaded run)
        recorded = checkpoint.get("initialised_from")
        if recorded is not None or self.init_from is not None:
            self.source = dict(recorded or {"path": str(self.init_from), "sha256": ""})

    # ----------------------------------------------------------------------------------------------- forward
    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: Any, *args: Any, **kwargs: Any) -> GANModule:  # type: ignore[override]
        """Lightning's ``load_from_checkpoint`` after the trusted-class check of :mod:`inpaint_lightning.checkpoint`
        (Lightning would build every ``class_path`` in the file's hyperparameters)."""
        if isinstance(checkpoint_path, str | os.PathLike):
            load_trusted(checkpoint_path)
        else:  # a file object: refuse what cannot be vetted
            raise StartupError("load_from_checkpoint: pass a checkpoint path (file objects cannot be vetted)")
        return super().load_from_checkpoint(checkpoint_path, *args, **kwargs)

    @property
    def inference_generator(self) -> nn.Module:
        """The generator to evaluate and deploy: the EMA one when there is one."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """The inference generator's output for ``batch`` (``input``[, ``mask``]) as metrics see it: inpainting
        composites the known pixels back, restoration clamps to [0, 1]."""
        batch = self._in_layout(batch)
        return self.task.output(self.inference_generator(self._generator_input(batch)), batch)

    def _in_layout(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """Images and masks in the networks' memory order (a no-op unless ``channels_last``). Done by the steps,
        not ``on_after_batch_transfer``: that hook of a module is shadowed by, and warns about, a datamodule."""
        if self.memory_format is torch.contiguous_format:
            return batch
        return {
            k: v.contiguous(memory_format=self.memory_format) if isinstance(v, Tensor) and v.dim() == 4 else v
            for k, v in batch.items()
        }

    def _generator_input(self, batch: dict[str, Tensor]) -> Tensor:
        # Again after the task builds it: a 1-channel mask is both layouts at once, and `cat` then picks NCHW.
        return self.task.generator_input(batch).contiguous(memory_format=self.memory_format)

    # ---------------------------------------------------------------------------------------------- training
    def configure_optimizers(self) -> Any:
        optimizers = [self.g_optimizer(self.generator.parameters())]
        factories = [self.g_scheduler]
        if self.discriminator is not None:
            optimizers.append(self.d_optimizer(self.discriminator.parameters()))
            factories.append(self.d_scheduler)
        schedulers = [
            {"scheduler": factory(opt), "interval": self.scheduler_interval}
            for factory, opt in zip(factories, optimizers, strict=True)
            if factory is not None
        ]
        metric, mode = self.monitored
        for entry in schedulers:
            plateau = entry["scheduler"]
            if isinstance(plateau, torch.optim.lr_scheduler.ReduceLROnPlateau) and plateau.mode != mode:
                raise ValueError(
                    f"ReduceLROnPlateau watches {metric} ({mode} is better for the {self.task.name} task): "
                    f"give it mode: {mode}"
                )
        return optimizers, schedulers

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Lightning calls this from inside `opt.step()`, after the 16-mixed GradScaler has unscaled the
        # gradients, so the clip applies to true gradients under every precision.
        if self.gradient_clip_val:
            self.clip_gradients(
                optimizer, gradient_clip_val=self.gradient_clip_val, gradient_clip_algorithm="norm"
            )

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        batch = self._in_layout(batch)
        step = self.global_step  # batches trained so far: one counted optimizer step per batch (see below)
        updates = self._updates_at(step)
        image, condition = self.task.real(batch), self.task.condition(batch)
        trains_generator = any(network == "generator" for network, _ in updates)
        x = self._generator_input(batch)
        with torch.set_grad_enabled(trains_generator):  # a discriminator-only batch needs no generator graph
            stages = self._stages(x)  # once per batch, used by every phase
        comp = self.task.output(stages[-1], batch)

        logs: dict[str, Any] = {}
        for i, (network, optimizer) in enumerate(updates):
            self.toggle_optimizer(optimizer)
            if network == "discriminator":  # the objective decides lazy R1 from its phases at `step`
                total, terms = self.loss.discriminator_loss(
                    self.discriminator, image, comp.detach(), condition, step=step
                )
            else:  # it also leaves out the realism terms during its pixel warm-up
                total, terms = self.loss.generator_loss(
                    self.discriminator, image, stages, comp, condition, step=step, inputs=x
                )
            self._check_finite(network, total, terms)
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(total)
            if i == len(updates) - 1:
                optimizer.step()  # the Lightning-wrapped step, the one `global_step` counts
            else:  # through the strategy (precision plugin, grad scaler, clipping), not counted
                self.trainer.strategy.optimizer_step(optimizer.optimizer, closure=lambda: None, model=self)
            self.untoggle_optimizer(optimizer)
            if network == "generator" and self.generator_ema is not None:
                update_ema(self.generator_ema, self.generator, self._ema_decay_now())
            logs.update(terms)

        if self.scheduler_interval == "step":
            self._step_schedulers({network for network, _ in updates})
        logs = {f"train/{k}": v for k, v in logs.items()}
        g_opt, d_opt = self._g_d_optimizers()
        logs["train/lr_g"] = float(g_opt.param_groups[0]["lr"])
        if d_opt is not None:
            logs["train/lr_d"] = float(d_opt.param_groups[0]["lr"])
        self.log_dict(logs, prog_bar=False, on_step=True, on_epoch=False, batch_size=image.shape[0])
        for short, key in (("g_loss", "train/g/loss"), ("d_loss", "train/d/loss")):
            if key in logs:
                self.log(short, logs[key], prog_bar=True, logger=False, batch_size=image.shape[0])

    def _updates_at(self, step: int) -> list[tuple[str, Any]]:
        """(network, its Lightning-wrapped optimizer) for each update of batch ``step``, in the objective's phase
        order (:meth:`~inpaint_lightning.losses.objective.Objective.phases`); a phase of a network the module
        does not have (no discriminator) is not due.

        Exactly one update per batch goes through the Lightning-wrapped ``optimizer.step()``, which advances
        ``global_step``; the others step through the strategy. So ``global_step``, ``max_steps``,
        ``every_n_train_steps`` and step schedulers count batches whatever the phases are (a discriminator-only
        warm-up batch counts too)."""
        g_opt, d_opt = self._g_d_optimizers()
        optimizers = {"generator": g_opt, "discriminator": d_opt}
        networks: list[str] = []
        for phase in self.loss.due(step):
            if optimizers[phase.network] is not None and phase.network not in networks:
                networks.append(phase.network)
        if not networks:
            raise ValueError(f"{type(self.loss).__name__} has no phase due at step {step}")
        return [(network, optimizers[network]) for network in networks]

    def _check_finite(self, network: str, total: Tensor, logs: dict[str, Any]) -> None:
        """Stop the run at the first NaN/inf loss, *before* it reaches the weights (one sync per phase).

        Skipping such steps would hide a diverging run; stopping keeps the last checkpoint the last good model
        (:class:`~inpaint_lightning.callbacks.Checkpoint` saves nothing for this error).
        """
        if bool(torch.isfinite(total.detach())):
            return
        bad = [
            k
            for k, v in logs.items()
            if isinstance(v, Tensor | float) and not bool(torch.isfinite(torch.as_tensor(v)))
        ]
        raise TrainingDiverged(
            f"non-finite {network} loss at step {self.global_step} ({', '.join(bad) or 'total'}); stopped before "
            f"the update, checkpoints left as they were. Resume from the last one with a lower learning rate, "
            f"gradient_clip_val or precision 32."
        )

    def _ema_decay_now(self) -> float:
        """0 (copy) until ``ema_start``; then ``min(ema_decay, (1 + t) / (10 + t))`` for t steps since the start.

        The warm-up (as TensorFlow's ExponentialMovingAverage with ``num_updates``) keeps the average from being
        dominated by early, poor weights in short runs; after a few thousand steps it is just ``ema_decay``.
        """
        t = self.global_step - self.ema_start
        if t <= 0:
            return 0.0
        return min(float(self.ema_decay), (1.0 + t) / (10.0 + t))

    def _stages(self, x: Tensor) -> list[Tensor]:
        """Every stage's raw prediction (multi-stage generators give more than one), the final one last."""
        if hasattr(self.generator, "forward_stages"):
            return self.generator.forward_stages(x)
        return [self.generator(x)]

    def _g_d_optimizers(self) -> tuple[Any, Any | None]:
        """The generator's and the discriminator's (None without one) Lightning-wrapped optimizers."""
        optimizers = self.optimizers()
        return optimizers if isinstance(optimizers, list) else (optimizers, None)

    def _step_schedulers(self, updated: set[str]) -> None:
        """Step the LR schedulers of the networks ``updated`` in that interval, so a warm-up (batches that never
        touch one network) does not use up its schedule before its first step."""
        schedulers = self.lr_schedulers()
        if schedulers is None:
            return
        g_opt, d_opt = self._g_d_optimizers()
        network_of = {id(g_opt.optimizer): "generator"}
        if d_opt is not None:
            network_of[id(d_opt.optimizer)] = "discriminator"
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            if network_of[id(scheduler.optimizer)] not in updated:
                continue
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                value = self.trainer.callback_metrics.get(
                    self.monitored[0]
                )  # None before the first validation
                if value is not None:
                    scheduler.step(value)
            else:
                scheduler.step()

    def on_train_epoch_end(self) -> None:
        if self.scheduler_interval == "epoch":  # a network trained in this epoch if it did at its last batch
            self._step_schedulers({network for network, _ in self._updates_at(max(self.global_step - 1, 0))})

    # ------------------------------------------------------------------------------------------- evaluation
    def _evaluate(self, batch: dict[str, Tensor], split: str) -> dict[str, Tensor]:
        image = batch["target"]
        output = self(batch)
        metrics = self.metrics[split]
        with torch.autocast(self.device.type, enabled=False):
            scores = metrics.update(output.float(), image.float())
            # the task's region: inpainting's hole (the evaluate command's per-image definition), else all of it
            hole = region_l1(output, image, self.task.l1_region(batch)).mean()
        self.log(
            f"{split}/{self.task.l1_metric}",
            hole,
            batch_size=image.shape[0],
            sync_dist=True,
        )
        result = {"output": output.detach(), "scores": scores}  # per-image PSNR/SSIM for bucket tables
        if split == "val" and "val_baseline" in self.metrics:
            result["baseline"] = self.task.baseline(self.val_baseline, batch)
            with torch.autocast(self.device.type, enabled=False):
                self.metrics["val_baseline"].update(result["baseline"], image.float())
        return result

    def _log_metrics(self, split: str) -> None:
        values = self.metrics[split].compute()
        self.log_dict(values, prog_bar=True, sync_dist=True)  # already reduced by torchmetrics: a no-op mean
        self.metrics[split].reset()
        if split == "val" and "val_baseline" in self.metrics:
            self.log_dict(self.metrics["val_baseline"].compute(), sync_dist=True)
            self.metrics["val_baseline"].reset()

    def _start_metrics(self, split: str) -> None:
        # Metrics are not submodules, so they follow the model's device here, once per epoch. Resetting here
        # also gives fresh states in this loop's grad mode: states left by a `validate` run are inference
        # tensors, which a later validation inside `fit` (no_grad, not inference mode) could not update.
        self.metrics[split].to(self.device).reset()
        if split == "val" and "val_baseline" in self.metrics:
            self.metrics["val_baseline"].to(self.device).reset()

    def on_validation_start(self) -> None:
        self._ensure_source()  # `validate --model.init_from SRC`: the source's own scores

    def on_validation_epoch_start(self) -> None:
        self._start_metrics("val")

    def on_test_epoch_start(self) -> None:
        if self.task.evaluated_as_images:
            self.scorer = Scorer(self.lpips_net, keep=8).to(self.device)
        else:  # damage masks: the validation metrics (IoU/F1) under test/
            self.metrics["test"] = self.task.metrics("test/", None, self.scale)
            self._start_metrics("test")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        return self._evaluate(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val")

    def test_step(self, batch: dict[str, Any] | None, batch_idx: int) -> dict[str, Tensor] | None:
        if batch is None:  # every file of this batch was unreadable (warned by the dataset)
            return None
        if not self.task.evaluated_as_images:
            return self._evaluate(batch, "test")
        image, mask = batch["target"], batch.get("mask")
        output = self(batch)
        names = batch.get("name") or [f"{int(i):06d}" for i in batch["index"]]
        assert self.scorer is not None
        shown = self.task.shown_input(batch)
        with torch.autocast(self.device.type, enabled=False):
            self.scorer.update(
                output.float(), image.float(), mask, names, masked=shown, y_border=self.y_border
            )
        return {"output": output.detach()}

    def on_test_epoch_end(self) -> None:
        if not self.task.evaluated_as_images:
            self._log_metrics("test")
            return
        assert self.scorer is not None
        save_test_results(self, self.scorer)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        return {"output": self(batch), "index": batch["index"]}


#: The previous name of :class:`GANModule` (inpainting was its only task); kept so existing code and notebooks run.
InpaintingGAN = GANModule
