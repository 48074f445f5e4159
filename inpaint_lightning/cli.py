"""Command line: ``python -m inpaint_lightning {fit,validate,test,predict}`` through LightningCLI, and the
standalone commands of :mod:`inpaint_lightning.commands` (``masks``, ``evaluate``, ``inpaint``, ``export``,
``serve``). Also installed as ``inpaint-lightning``."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

import yaml
from jsonargparse import Namespace
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback
from lightning.pytorch.plugins.io import CheckpointIO
from lightning.pytorch.utilities import rank_zero_warn

from inpaint_lightning.callbacks import Checkpoint
from inpaint_lightning.checkpoint import SafeCheckpointIO, latest_last, load_trusted, newest_intact
from inpaint_lightning.commands import COMMANDS
from inpaint_lightning.commands import run as run_command
from inpaint_lightning.data.datamodule import ImageDataModule
from inpaint_lightning.data.sources import require_folder
from inpaint_lightning.errors import NonFiniteOutputError, StartupError, TrainingDiverged
from inpaint_lightning.module import GANModule
from inpaint_lightning.progress import StepProgressBar
from inpaint_lightning.usage import exit_usage_error, program_name

# ImageDataModule resumes mid-epoch exactly (its sampler skips the batches already trained on), so
# Lightning's generic warning about non-resumable dataloaders does not apply.
warnings.filterwarnings(
    "ignore", message="You're resuming from a checkpoint that ended before the epoch ended"
)


#: ``ckpt_path`` values Lightning resolves itself (no file to vet here).
_LIGHTNING_CKPT_NAMES = ("last", "best", "hpc", "registry")


def _resolve_ckpt_path(ckpt_path: str | None, checkpoint_dir: str | None, root: str) -> str | None:
    """``last`` → the run's ``last.ckpt``: in ``checkpoint.dirpath`` when set, else the newest run's under the
    root folder (each run has its own folder, so a new process would not find it otherwise). Other values, and
    ``last`` with nothing to resume (Lightning then warns and starts from scratch), pass through."""
    if ckpt_path != "last":
        return ckpt_path
    last = Path(checkpoint_dir) / "last.ckpt" if checkpoint_dir else latest_last(root)
    return str(last) if last is not None and last.is_file() else ckpt_path


#: Settings checked before anything is built: (dotted key, test, what it must be).
_SETTINGS: tuple[tuple[str, Any, str], ...] = (
    ("data.batch_size", lambda v: v >= 1, "a positive integer"),
    ("data.image_size", lambda v: v >= 8, "at least 8 (pixels)"),
    ("data.num_workers", lambda v: v >= 0, "0 or more"),
    ("data.val_ratio", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("data.test_ratio", lambda v: 0 <= v <= 1, "in [0, 1]"),
    ("data.max_side", lambda v: v >= 8, "at least 8 (pixels) or null"),
    ("trainer.max_steps", lambda v: v >= -1, "-1 (no limit) or >= 0"),
    ("trainer.max_epochs", lambda v: v >= -1, "-1 (no limit) or >= 0"),
)
#: Arguments checked wherever they appear in a class's init_args (optimizers, schedulers, mask generators).
_INIT_ARGS: dict[str, tuple[Any, str]] = {
    "lr": (lambda v: v >= 0, ">= 0"),
    "weight_decay": (lambda v: v >= 0, ">= 0"),
    "hole_range": (lambda v: all(0 <= x <= 1 for x in v) and v[0] <= v[1], "(min, max) within [0, 1]"),
}


def check_settings(config: Any) -> None:
    """Fail in one line, before any model, logger or data is built, on values that cannot work."""
    for key, ok, must in _SETTINGS:
        value = config.get(key)
        if value is not None and not ok(value):
            raise StartupError(f"--{key} must be {must}, got {value}")

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            node = Namespace(**node)
        if isinstance(node, Namespace):
            items = vars(node).items()
        elif isinstance(node, list | tuple):
            items = ((str(i), v) for i, v in enumerate(node))
        else:
            return
        for name, value in items:
            key = f"{path}.{name}" if path else name
            if name in _INIT_ARGS and path.endswith("init_args") and value is not None:
                ok, must = _INIT_ARGS[name]
                if not ok(value):
                    raise StartupError(f"--{key} must be {must}, got {value}")
            walk(value, key)

    for section in ("model", "data"):
        walk(config.get(section), section)
    root = config.get("data.root")
    if root is not None:  # a wrong path fails before the networks (and their pretrained weights) load
        require_folder(root)


def run_folder(trainer: Trainer) -> Path:
    """The run's own folder: ``<save_dir>/<name>/<version>`` of its first logger (where Lightning puts the run's
    checkpoints), or ``default_root_dir`` without a logger."""
    logger = trainer.logger
    if logger is None or logger.save_dir is None or logger.version is None:
        return Path(trainer.default_root_dir)
    version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
    return Path(logger.save_dir) / str(logger.name) / version


class LoggedConfig(SaveConfigCallback):
    """Writes config.yaml into the run's own folder (:func:`run_folder`: two runs never share one, unlike
    Lightning's ``trainer.log_dir``, which is the root folder for W&B) and sends the resolved config to the
    logger (W&B's config panel)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "save_to_log_dir": False})

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        folder = run_folder(trainer)
        folder.mkdir(parents=True, exist_ok=True)
        self.parser.save(self.config, folder / self.config_filename, skip_none=False, overwrite=True)
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
        for logger in trainer.loggers:
            logger.log_hyperparams({"config": config})


class InpaintArgumentParser(LightningArgumentParser):
    """Usage errors as one line and a "did you mean" (:mod:`inpaint_lightning.usage`), not ~100 lines of usage.
    Parsers that jsonargparse builds with ``exit_on_error=False`` still raise, as jsonargparse expects."""

    _typed: list[str] | None = None

    def parse_args(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        # What the user typed, so a suggestion is written as a --flag or as a config key, as they wrote it.
        InpaintArgumentParser._typed = [str(a) for a in (sys.argv[1:] if args is None else args)]
        return super().parse_args(args, *rest, **kwargs)

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if self.exit_on_error and os.environ.get("JSONARGPARSE_DEBUG", "").lower() != "true":
            exit_usage_error(getattr(ex, "subcommand_parser", None) or self, message, typed=self._typed)
        super().error(message, ex)


#: The configuration every run starts from (``--print_config`` shows it merged with yours).
DEFAULTS = Path(__file__).with_name("defaults.yaml")


def _defaults_for(run: bool) -> dict[str, Any]:
    """:data:`DEFAULTS` as the default config file of each subcommand's parser, or of the one parser that
    ``run=False`` builds (notebooks, benchmarks): configs carry only their differences on top, either way."""
    files = {"default_config_files": [str(DEFAULTS)]}
    return {sub: files for sub in ("fit", "validate", "test", "predict")} if run else files


class CLI(LightningCLI):
    """LightningCLI with the module configuring its own two optimizers (``--optimizer`` is not offered,
    because it would silently replace ``configure_optimizers``)."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        # As its own group every option is a flag: --checkpoint.dirpath DIR. Without a dirpath each run writes
        # into its own logger folder (<default_root_dir>/<name>/<version>/checkpoints), as Lightning does.
        parser.add_lightning_class_args(Checkpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.filename": "step{step:06d}",
                "checkpoint.auto_insert_metric_name": False,
                "checkpoint.monitor": "auto",  # the task's metric and direction (Checkpoint)
                "checkpoint.save_top_k": 3,
                "checkpoint.save_last": True,
            }
        )

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        """Parse, then vet ``--ckpt_path`` before LightningCLI reads (and builds classes from) its
        hyperparameters: a damaged file or an untrusted class path is one error line, not a traceback."""
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        if not subcommand:
            return
        config = self.config[subcommand]
        root = config.trainer.get("default_root_dir") or "logs"
        checkpoint = config.get("checkpoint")
        ckpt_dir = checkpoint.get("dirpath") if checkpoint else None
        requested = config.get("ckpt_path")
        ckpt_path = _resolve_ckpt_path(requested, ckpt_dir, root)
        if ckpt_path and ckpt_path not in _LIGHTNING_CKPT_NAMES and "://" not in ckpt_path:
            try:  # the one vetting read: not found, damaged, untrusted classes
                load_trusted(ckpt_path)
            except StartupError as err:
                # `last` may fall back to the newest intact checkpoint beside a damaged last.ckpt
                intact = (
                    newest_intact(Path(ckpt_path).parent, exclude=ckpt_path) if requested == "last" else None
                )
                if intact is None:
                    raise
                rank_zero_warn(
                    f"{ckpt_path} is damaged ({err}); resuming from the newest intact checkpoint {intact}"
                )
                ckpt_path = str(intact)
            else:
                if requested == "last":
                    print(f"resuming from {ckpt_path}", file=sys.stderr)
        config.ckpt_path = ckpt_path

    def before_instantiate_classes(self) -> None:
        # Each manual_backward reaches only one network (D, then G), which plain DDP reports as unused
        # parameters; the string names below are Lightning's own variants that allow it.
        config = self.config.get(self.subcommand) if self.subcommand else self.config
        check_settings(config)
        strategy = config.trainer.strategy
        if strategy in ("ddp", "ddp_spawn"):
            config.trainer.strategy = f"{strategy}_find_unused_parameters_true"
        # Loggers without a save_dir write under the trainer's default_root_dir (and so do checkpoints,
        # which follow the logger), so `--trainer.default_root_dir runs/a` moves the whole run.
        root = config.trainer.get("default_root_dir") or "logs"
        loggers = config.trainer.get("logger")
        for logger in loggers if isinstance(loggers, list) else [loggers]:
            init_args = getattr(logger, "init_args", None)
            if init_args is not None and "save_dir" in init_args and init_args.save_dir is None:
                init_args.save_dir = root

    def before_fit(self) -> None:
        """The data must be for the model's task, and the crop size one the generator can run (its coarsest level
        needs a few pixels): checked on the built objects, before the first step, in one line."""
        from inpaint_lightning.inference.sizing import padded_size, probe_min_side

        model_task = getattr(self.model, "task", None)
        task = getattr(model_task, "trains_on", None) or getattr(model_task, "name", None)
        references = getattr(self.datamodule, "references", None)
        if getattr(model_task, "needs_reference", False) and references is None:
            raise StartupError(
                f"model.task {model_task.name} learns the look of photos you like: set --data.reference FOLDER"
            )
        if references is not None and (getattr(self.datamodule, "pairs", None) or self.datamodule.scale != 1):
            raise StartupError(
                "--data.reference goes with photos at their own size (data.root a plain folder, a scale-1 corruption)"
            )
        corruption = getattr(self.datamodule, "corruption", None)
        data_task = (
            "restore" if getattr(self.datamodule, "pairs", None) else getattr(corruption, "task", None)
        )
        if task is not None and data_task is not None and task != data_task:
            raise StartupError(
                f"model.task is {getattr(model_task, 'name', task)} but the data ({type(corruption).__name__}) makes {data_task} samples: set "
                f"--model.task {data_task}, or a data.corruption for {task}"
            )
        generator = getattr(self.model, "generator", None)
        size = getattr(self.datamodule, "image_size", None)
        if generator is None or size is None:
            return
        contract = self.model.contract
        multiple, scale = (
            contract.size_multiple,
            contract.scale,
        )  # restoration: the generator sees the low-res crop
        was_training = generator.training
        generator.eval()  # the probe must not touch BatchNorm statistics
        try:
            need = probe_min_side(generator, multiple, channels=self.model.task.input_channels)
        finally:
            generator.train(was_training)
        data_scale = int(getattr(self.datamodule, "scale", scale))
        if data_scale != scale:
            source = "the lq/gt pairs" if getattr(self.datamodule, "pair_scale", None) else "the degradation"
            raise StartupError(
                f"the generator up-scales x{scale} but {source} need x{data_scale}: set "
                f"--model.generator.init_args.scale {data_scale} (or choose data of scale {scale})"
            )
        if padded_size(size // scale, size // scale, multiple)[0] < need:
            raise StartupError(
                f"--data.image_size {size} is too small for this generator: it needs crops of at least {need} px"
            )

    def instantiate_classes(self) -> None:
        """Build everything; a constructor's own check of its arguments (e.g. ``FreeFormMasks.hole_range``) is
        a wrong config: one line, exit 2 (``JSONARGPARSE_DEBUG=true`` shows the traceback)."""
        try:
            super().instantiate_classes()
        except ValueError as err:
            if os.environ.get("JSONARGPARSE_DEBUG", "").lower() == "true":
                raise
            raise StartupError(f"invalid configuration: {str(err).strip().splitlines()[0]}") from None

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """LightningCLI's trainer with this project's defaults, each unless the config chose otherwise: atomic
        checkpoint saves and trusted loads (:class:`~inpaint_lightning.checkpoint.SafeCheckpointIO`) unless a
        CheckpointIO is configured; the step-counted progress bar unless bars are off or another is configured;
        and ``enable_checkpointing: false`` leaves the ``checkpoint`` group out instead of contradicting it."""
        config = self.config_init.get(self.subcommand) if self.subcommand else self.config_init
        trainer = {**config.get("trainer", {}), **kwargs}
        plugins = trainer.get("plugins")
        plugins = list(plugins) if isinstance(plugins, list | tuple) else [] if plugins is None else [plugins]
        if not any(isinstance(p, CheckpointIO) for p in plugins):
            kwargs["plugins"] = [*plugins, SafeCheckpointIO()]
        callbacks = trainer.get("callbacks")
        callbacks = (
            list(callbacks)
            if isinstance(callbacks, list | tuple)
            else []
            if callbacks is None
            else [callbacks]
        )
        if trainer.get("enable_progress_bar") is not False and not any(
            isinstance(c, ProgressBar) for c in callbacks
        ):
            kwargs["callbacks"] = [*callbacks, StepProgressBar()]
        if trainer.get("enable_checkpointing") is False and isinstance(
            config.get("checkpoint"), ModelCheckpoint
        ):
            config["checkpoint"] = Callback()  # a callback that does nothing, in the group's place
        return super().instantiate_trainer(**kwargs)

    def __init__(self, args: list[str] | None = None, run: bool = True) -> None:
        super().__init__(
            GANModule,
            ImageDataModule,
            save_config_callback=LoggedConfig,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            parser_class=InpaintArgumentParser,
            parser_kwargs={"parser_mode": "yaml", "prog": program_name(), **_defaults_for(run)},
            args=args,
            run=run,
        )


#: The first name of :class:`CLI` (from when inpainting was its only task); kept for scripts that import it.
InpaintCLI = CLI


def main(args: list[str] | None = None) -> CLI | None:
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
        return CLI(args=args)
    except StartupError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except (TrainingDiverged, NonFiniteOutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None


def _print_standalone_commands() -> None:
    lines = [f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items()]
    print(f"standalone commands ({program_name()} <command> --help):\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
