"""Command line: ``python -m inpaint_lightning {fit,validate,test,predict}`` (also ``inpaint-lightning``)."""

from __future__ import annotations

import sys

import yaml
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback

from inpaint_lightning.data.datamodule import InpaintDataModule
from inpaint_lightning.errors import StartupError
from inpaint_lightning.module import InpaintingGAN


class LoggedConfig(SaveConfigCallback):
    """Writes config.yaml next to the logs and sends the resolved config to the logger (W&B's config panel)."""

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
        for logger in trainer.loggers:
            logger.log_hyperparams({"config": config})


class InpaintCLI(LightningCLI):
    """LightningCLI with the module configuring its own two optimizers (``--optimizer`` is not offered,
    because it would silently replace ``configure_optimizers``)."""

    def __init__(self, args: list[str] | None = None, run: bool = True) -> None:
        super().__init__(
            InpaintingGAN,
            InpaintDataModule,
            save_config_callback=LoggedConfig,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            parser_kwargs={"parser_mode": "yaml"},
            args=args,
            run=run,
        )


def main(args: list[str] | None = None) -> InpaintCLI | None:
    """Entry point; errors that mean "cannot start" print one message and exit with status 2."""
    try:
        return InpaintCLI(args=args)
    except StartupError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
