"""Command line: ``python -m inpaint_lightning {fit,validate,test,predict}`` through LightningCLI, and the
standalone commands of :mod:`inpaint_lightning.commands` (``masks``, ``evaluate``, ``inpaint``, ``export``,
``serve``). Also installed as ``inpaint-lightning``."""

from __future__ import annotations

import os
import sys
import warnings
from typing import NoReturn

import yaml
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

from inpaint_lightning.callbacks import Checkpoint
from inpaint_lightning.commands import COMMANDS
from inpaint_lightning.commands import run as run_command
from inpaint_lightning.data.datamodule import InpaintDataModule
from inpaint_lightning.errors import StartupError
from inpaint_lightning.module import InpaintingGAN
from inpaint_lightning.progress import StepProgressBar
from inpaint_lightning.usage import exit_usage_error, program_name

# InpaintDataModule resumes mid-epoch exactly (its sampler skips the batches already trained on), so
# Lightning's generic warning about non-resumable dataloaders does not apply.
warnings.filterwarnings(
    "ignore", message="You're resuming from a checkpoint that ended before the epoch ended"
)

DEFAULT_CKPT_DIR = "logs/checkpoints"


class LoggedConfig(SaveConfigCallback):
    """Writes config.yaml next to the logs and sends the resolved config to the logger (W&B's config panel)."""

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
        for logger in trainer.loggers:
            logger.log_hyperparams({"config": config})


class InpaintArgumentParser(LightningArgumentParser):
    """Usage errors as one line and a "did you mean" (:mod:`inpaint_lightning.usage`), not ~100 lines of usage.
    Parsers that jsonargparse builds with ``exit_on_error=False`` still raise, as jsonargparse expects."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if self.exit_on_error and os.environ.get("JSONARGPARSE_DEBUG", "").lower() != "true":
            exit_usage_error(getattr(ex, "subcommand_parser", None) or self, message)
        super().error(message, ex)


class InpaintCLI(LightningCLI):
    """LightningCLI with the module configuring its own two optimizers (``--optimizer`` is not offered,
    because it would silently replace ``configure_optimizers``)."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        # A fixed checkpoint folder (not one per logger version) is what lets `fit --ckpt_path last` find
        # last.ckpt from a new process; as its own group every option is a flag: --checkpoint.dirpath DIR.
        parser.add_lightning_class_args(Checkpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.dirpath": DEFAULT_CKPT_DIR,
                "checkpoint.filename": "step{step:06d}",
                "checkpoint.auto_insert_metric_name": False,
                "checkpoint.monitor": "val/lpips",
                "checkpoint.mode": "min",
                "checkpoint.save_top_k": 3,
                "checkpoint.save_last": True,
            }
        )

    def before_instantiate_classes(self) -> None:
        # Each manual_backward reaches only one network (D, then G), which plain DDP reports as unused
        # parameters; the string names below are Lightning's own variants that allow it.
        config = self.config.get(self.subcommand) if self.subcommand else self.config
        strategy = config.trainer.strategy
        if strategy in ("ddp", "ddp_spawn"):
            config.trainer.strategy = f"{strategy}_find_unused_parameters_true"
        # Under a W&B sweep agent, runs would share (and overwrite) the default checkpoint folder: one per run.
        sweep, run_id = os.environ.get("WANDB_SWEEP_ID"), os.environ.get("WANDB_RUN_ID")
        if sweep and run_id and config.get("checkpoint") and config.checkpoint.dirpath == DEFAULT_CKPT_DIR:
            config.checkpoint.dirpath = f"logs/sweeps/{sweep}/{run_id}"

    def _instantiate_trainer(self, config: dict, callbacks: list) -> Trainer:
        if config.get("enable_checkpointing") is False:  # the `checkpoint` group must not contradict it
            callbacks = [c for c in callbacks if not isinstance(c, ModelCheckpoint)]
        # Step-counted progress (a Rich bar on a terminal, plain lines in a log file) unless bars are off or
        # another bar was configured.
        configured = [c for c in (config.get("callbacks") or []) + callbacks if isinstance(c, ProgressBar)]
        if config.get("enable_progress_bar") is not False and not configured:
            callbacks = [*callbacks, StepProgressBar()]
        return super()._instantiate_trainer(config, callbacks)

    def __init__(self, args: list[str] | None = None, run: bool = True) -> None:
        super().__init__(
            InpaintingGAN,
            InpaintDataModule,
            save_config_callback=LoggedConfig,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            parser_class=InpaintArgumentParser,
            parser_kwargs={"parser_mode": "yaml", "prog": program_name()},
            args=args,
            run=run,
        )


def main(args: list[str] | None = None) -> InpaintCLI | None:
    """Entry point; errors that mean "cannot start" print one message and exit with status 2."""
    argv = list(sys.argv[1:] if args is None else args)
    try:
        if argv and argv[0] in COMMANDS:
            status = run_command(argv[0], argv[1:])
            if status:
                raise SystemExit(status)
            return None
        if not argv or argv[0] in ("-h", "--help"):
            _print_standalone_commands()
        return InpaintCLI(args=args)
    except StartupError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def _print_standalone_commands() -> None:
    lines = [f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items()]
    print(f"standalone commands ({program_name()} <command> --help):\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
