"""Loggers: Lightning's :class:`~lightning.pytorch.loggers.WandbLogger`, with ``log_model`` that is safe offline."""

from __future__ import annotations

import os
from typing import Any, Literal

from lightning.pytorch.loggers import WandbLogger as _LightningWandbLogger
from lightning.pytorch.utilities import rank_zero_info

#: ``WANDB_MODE`` values in which nothing can be uploaded.
OFFLINE_MODES = ("offline", "dryrun", "disabled")


def wandb_offline(offline: bool) -> bool:
    """True when the run will not reach a server: ``offline`` set, or ``WANDB_MODE`` offline/disabled."""
    return offline or os.environ.get("WANDB_MODE", "").lower() in OFFLINE_MODES


class WandbLogger(_LightningWandbLogger):
    """Lightning's W&B logger; ``log_model`` uploads checkpoints as artifacts only when the run is online.

    Lightning refuses ``log_model`` together with ``offline=True``. Here the same config serves both: offline
    (the default in ``configs/gan.yaml``, or ``WANDB_MODE=offline``) ``log_model`` is switched off with an info
    line, online (``offline: false`` after ``wandb login``) checkpoints become ``model-<run id>`` artifacts with
    the aliases ``best`` and ``latest``. Every other argument is Lightning's (extra ones go to ``wandb.init``);
    ``save_dir`` left unset is the trainer's ``default_root_dir`` under the CLI (``.`` otherwise).
    """

    def __init__(
        self,
        name: str | None = None,
        save_dir: str | None = None,
        version: str | None = None,
        offline: bool = False,
        dir: str | None = None,
        id: str | None = None,
        anonymous: bool | None = None,
        project: str | None = None,
        log_model: Literal["all"] | bool = False,
        prefix: str = "",
        checkpoint_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.requested_log_model = log_model
        if log_model and wandb_offline(offline):
            rank_zero_info(
                f"W&B is offline: log_model={log_model} ignored (checkpoints stay on disk; "
                "set trainer.logger.init_args.offline false after `wandb login` to upload them)."
            )
            log_model = False
        super().__init__(
            name=name, save_dir="." if save_dir is None else save_dir, version=version, offline=offline, dir=dir, id=id,
            anonymous=anonymous, project=project, log_model=log_model, prefix=prefix,
            checkpoint_name=checkpoint_name, **kwargs,
        )  # fmt: skip
        # Lightning always passes `anonymous`, and wandb warns that the setting has no effect.
        if self._wandb_init.get("anonymous") is None:
            self._wandb_init.pop("anonymous", None)
