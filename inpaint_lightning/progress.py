"""Training progress that shows wherever output goes: a Rich bar on a terminal, plain periodic lines otherwise.

Why not Lightning's bars: ``RichProgressBar`` draws nothing until the end when stdout is a file (``make fit >
fit.log``, nohup, CI, cluster jobs) and counts epochs (``Epoch 28/-2`` for a ``max_steps`` run); this project counts
steps (one step = one batch = one D + one G update), so the bar's total is ``max_steps``.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, Timer


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _number(value: Any) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.4g}"


class StepProgressBar(ProgressBar):
    """Step-counted progress: ``step 120/400 (30%) | 2.3 it/s | ETA 0:02:01 | g_loss .. d_loss .. | val/lpips ..``.

    Args:
        plain: ``True``: plain lines; ``False``: a Rich bar; ``None`` (default): Rich on a terminal, else plain.
        every_n_steps: plain mode prints a line every this many steps ...
        every_seconds: ... or when this many seconds passed since the last line, whichever comes first, so a
            slow run still shows life and a fast one does not flood the log.
        stream: where plain lines go (default stdout, where Lightning's own messages go).
    """

    def __init__(
        self,
        plain: bool | None = None,
        every_n_steps: int = 50,
        every_seconds: float = 30.0,
        stream: TextIO | None = None,
    ) -> None:
        super().__init__()
        self._plain_arg, self.every_n_steps, self.every_seconds = plain, every_n_steps, every_seconds
        self._stream = stream
        self._enabled = True
        self._progress: Any = None  # rich.progress.Progress on a terminal
        self._tasks: dict[str, Any] = {}
        self._start_time = self._start_step = self._last_line_time = 0.0
        self._last_line_step = -1
        self._stage_start = 0.0

    # ------------------------------------------------------------------------------------------- plumbing
    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    @property
    def plain(self) -> bool:
        if self._plain_arg is not None:
            return self._plain_arg
        return not (hasattr(self.stream, "isatty") and self.stream.isatty())

    @property
    def is_enabled(self) -> bool:
        return self._enabled

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def print(self, *args: Any, **kwargs: Any) -> None:
        if self._progress is not None:
            self._progress.console.print(*args, **kwargs)
        else:
            print(*args, file=self.stream, flush=True, **kwargs)

    def _line(self, text: str) -> None:
        if self._enabled:
            print(text, file=self.stream, flush=True)

    def total_steps(self, trainer: L.Trainer) -> int | None:
        """The run's step total: ``max_steps``, else Lightning's estimate from epochs (None when unbounded)."""
        if trainer.max_steps and trainer.max_steps > 0:
            return int(trainer.max_steps)
        try:
            total = trainer.estimated_stepping_batches
        except Exception:  # no dataloader length yet, or an iterable dataset
            return None
        return int(total) if total != float("inf") else None

    def metrics_text(self, trainer: L.Trainer, pl_module: L.LightningModule) -> str:
        """Losses and the latest validation metrics, as ``name value`` pairs."""
        items = {k: v for k, v in self.get_metrics(trainer, pl_module).items() if k != "v_num"}
        return " ".join(f"{k} {_number(v)}" for k, v in items.items())

    def _status(self, trainer: L.Trainer, pl_module: L.LightningModule) -> str:
        step, total = trainer.global_step, self.total_steps(trainer)
        elapsed = time.monotonic() - self._start_time
        done = step - self._start_step
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"step {step}/{total} ({step / total:.0%})" if total else f"step {step}"]
        parts.append(f"{rate:.2f} it/s" if rate >= 0.1 else f"{1 / rate:.1f} s/it" if rate else "- it/s")
        parts.append(f"elapsed {_clock(elapsed)}")
        if total and rate > 0:
            parts.append(f"ETA {_clock((total - step) / rate)}")
        timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)
        if timer is not None and timer.time_remaining() is not None:  # a max_time budget
            parts.append(f"time left {_clock(timer.time_remaining())}")
        parts.append(f"epoch {trainer.current_epoch}")
        metrics = self.metrics_text(trainer, pl_module)
        return " | ".join(parts + ([metrics] if metrics else []))

    # ---------------------------------------------------------------------------------------------- rich
    def _rich_start(self) -> None:
        if self.plain or self._progress is not None or not self._enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[metrics]}"),
            auto_refresh=True,
        )
        self._progress.start()

    def _rich_task(self, name: str, total: int | float | None, completed: int = 0) -> None:
        if self._progress is None:
            return
        total = None if total in (None, float("inf")) else total
        if name in self._tasks:
            self._progress.reset(self._tasks[name], total=total, completed=completed, visible=True)
        else:
            self._tasks[name] = self._progress.add_task(name, total=total, completed=completed, metrics="")

    def _rich_update(self, name: str, completed: int, metrics: str | None = None) -> None:
        if self._progress is not None and name in self._tasks:
            fields = {} if metrics is None else {"metrics": metrics}
            self._progress.update(self._tasks[name], completed=completed, **fields)

    def _rich_hide(self, name: str) -> None:
        if self._progress is not None and name in self._tasks:
            self._progress.update(self._tasks[name], visible=False)

    def _rich_stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress, self._tasks = None, {}

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._rich_stop()

    # --------------------------------------------------------------------------------------------- train
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start_time = self._last_line_time = time.monotonic()
        self._start_step = self._last_line_step = trainer.global_step
        total = self.total_steps(trainer)
        if self.plain:
            resumed = f", resumed at step {trainer.global_step}" if trainer.global_step else ""
            self._line(f"training: {total if total else 'unbounded'} steps{resumed}")
        else:
            self._rich_start()
            self._rich_task("train", total, completed=trainer.global_step)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if not self.plain:
            self._rich_update("train", step, self.metrics_text(trainer, pl_module))
            return
        now = time.monotonic()
        first = self._last_line_step == self._start_step
        due = (
            step - self._last_line_step >= self.every_n_steps
            or now - self._last_line_time >= self.every_seconds
        )
        if first or due:
            self._line(self._status(trainer, pl_module))
            self._last_line_step, self._last_line_time = step, now

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.plain:
            if trainer.global_step != self._last_line_step:
                self._line(self._status(trainer, pl_module))
            self._line(
                f"training done: step {trainer.global_step} in {_clock(time.monotonic() - self._start_time)}"
            )
        else:
            self._rich_update("train", trainer.global_step, self.metrics_text(trainer, pl_module))
            self._rich_stop()

    # ------------------------------------------------------------------------------- validate/test/predict
    def _eval_start(self, name: str, total: int | float) -> None:
        self._stage_start = time.monotonic()
        if not self.plain:
            self._rich_start()
            self._rich_task(name, total)

    def _eval_batch(self, name: str, batch_idx: int) -> None:
        if not self.plain:
            self._rich_update(name, batch_idx + 1)

    def _eval_end(self, name: str, trainer: L.Trainer, pl_module: L.LightningModule, lines: bool) -> None:
        if self.plain and lines:
            took = _clock(time.monotonic() - self._stage_start)
            metrics = {k: v for k, v in trainer.callback_metrics.items() if k.startswith(("val/", "test/"))}
            shown = " ".join(f"{k} {_number(v)}" for k, v in sorted(metrics.items()))
            where = f" at step {trainer.global_step}" if name == "validation" else ""
            self._line(f"{name}{where} ({took}): {shown}" if shown else f"{name}{where} done ({took})")
        self._rich_hide(name)

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        total = self.total_val_batches if not trainer.sanity_checking else trainer.num_sanity_val_steps
        self._eval_start("validation", total)

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._eval_batch("validation", batch_idx)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._eval_end("validation", trainer, pl_module, lines=not trainer.sanity_checking)
        if trainer.state.fn != "fit":
            self._rich_stop()

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._eval_start("test", sum(trainer.num_test_batches))

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._eval_batch("test", batch_idx)

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._eval_end("test", trainer, pl_module, lines=True)
        self._rich_stop()

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._eval_start("predict", sum(trainer.num_predict_batches))

    def on_predict_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._eval_batch("predict", batch_idx)

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._eval_end("predict", trainer, pl_module, lines=True)
        self._rich_stop()
