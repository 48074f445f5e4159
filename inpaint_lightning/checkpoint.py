"""Rebuild the inference generator from a training checkpoint alone (no config file, no discriminator, no
loss networks): the architecture comes from the checkpoint's hyperparameters, the weights from its EMA copy."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from inpaint_lightning.errors import StartupError


def instantiate(config: Any) -> Any:
    """Build ``{"class_path": ..., "init_args": {...}}`` (recursively), as LightningCLI stores it."""
    if isinstance(config, Mapping) and "class_path" in config:
        module_name, _, name = str(config["class_path"]).rpartition(".")
        cls = getattr(importlib.import_module(module_name), name)
        kwargs = {k: instantiate(v) for k, v in dict(config.get("init_args") or {}).items()}
        return cls(**kwargs)
    if isinstance(config, Mapping):
        return {k: instantiate(v) for k, v in config.items()}
    if isinstance(config, list):
        return [instantiate(v) for v in config]
    return config


def load_generator(
    path: str | os.PathLike, ema: bool = True, map_location: str | torch.device = "cpu"
) -> nn.Module:
    """The generator of a checkpoint written by ``fit``, in eval mode.

    Args:
        path: a ``.ckpt`` file.
        ema: use the EMA weights when the checkpoint has them (what validation reported); False takes the raw
            generator's.
        map_location: device to load onto.

    Raises:
        StartupError: the file is missing or is not an inpaint_lightning training checkpoint.
    """
    if not os.path.isfile(path):
        raise StartupError(f"checkpoint not found: {path}")
    ckpt = torch.load(path, map_location=map_location, weights_only=False)
    hparams = ckpt.get("hyper_parameters", {})
    config = hparams.get("generator")
    if not (isinstance(config, Mapping) and "class_path" in config):
        raise StartupError(
            f"{path} does not record its generator's class_path/init_args (it was not saved by "
            f"`python -m inpaint_lightning fit`): build the generator yourself and load its state_dict."
        )
    generator = instantiate(dict(config))
    state = ckpt["state_dict"]
    prefix = "generator_ema." if ema and any(k.startswith("generator_ema.") for k in state) else "generator."
    generator.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
    return generator.eval().requires_grad_(False)
