"""Rebuild the inference generator from a training checkpoint alone (no config file, no discriminator, no
loss networks): the architecture comes from the checkpoint's hyperparameters, the weights from its EMA copy.

Loading is safe for files from elsewhere: ``torch.load(..., weights_only=True)`` unpickles only tensors and plain
containers (no code runs), and the ``class_path`` entries that say which classes to build must name
``nn.Module`` classes of this project or of ``torch.nn``, so a crafted checkpoint cannot make us call an
arbitrary function either.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from inpaint_lightning.errors import StartupError

#: Modules whose classes a checkpoint may ask :func:`load_generator` to build.
TRUSTED_MODULE_PREFIXES: tuple[str, ...] = ("inpaint_lightning.", "torch.nn.")


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


def _check_trusted(config: Any, path: Any) -> None:
    """Every ``class_path`` in ``config`` must be an ``nn.Module`` class from a trusted module."""
    if isinstance(config, Mapping):
        if "class_path" in config:
            class_path = str(config["class_path"])
            module_name, _, name = class_path.rpartition(".")
            if not module_name.startswith(TRUSTED_MODULE_PREFIXES):
                raise StartupError(
                    f"{path}: refusing to build {class_path!r} (only classes from "
                    f"{', '.join(p.rstrip('.') for p in TRUSTED_MODULE_PREFIXES)} are built from checkpoints)"
                )
            try:
                obj = getattr(importlib.import_module(module_name), name)
            except (ImportError, AttributeError) as err:
                raise StartupError(f"{path}: generator class {class_path!r} not found ({err})") from None
            if not (inspect.isclass(obj) and issubclass(obj, nn.Module)):
                raise StartupError(f"{path}: {class_path!r} is not an nn.Module class")
        for value in config.values():
            _check_trusted(value, path)
    elif isinstance(config, list):
        for value in config:
            _check_trusted(value, path)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a training checkpoint with ``weights_only=True``.

    Raises:
        StartupError: missing, unreadable/corrupt, holding objects beyond tensors and plain containers, or not a
            Lightning checkpoint (no ``state_dict``).
    """
    if not os.path.isfile(path):
        raise StartupError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        match = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if match is None:  # not a pickle at all, or a broken one
            raise StartupError(
                f"{path}: not a readable PyTorch checkpoint (corrupt, truncated or another format; "
                f"{str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__})"
            ) from None
        raise StartupError(
            f"{path}: not loadable with weights_only=True (it holds Python objects other than tensors and "
            f"plain containers, so it was not written by `python -m inpaint_lightning fit`): it refers to "
            f"{match[1]}"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError) as err:
        raise StartupError(
            f"{path}: not a readable PyTorch checkpoint (corrupt, truncated or another format; "
            f"{type(err).__name__}: {err})"
        ) from None
    if not isinstance(ckpt, Mapping) or not isinstance(ckpt.get("state_dict"), Mapping):
        raise StartupError(
            f"{path}: not a Lightning training checkpoint (no state_dict); expected a .ckpt written by "
            f"`python -m inpaint_lightning fit`"
        )
    return dict(ckpt)


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
        StartupError: the file is missing, corrupt, or is not an inpaint_lightning training checkpoint.
    """
    ckpt = load_checkpoint(path, map_location)
    hparams = ckpt.get("hyper_parameters") or {}
    config = hparams.get("generator") if isinstance(hparams, Mapping) else None
    if not (isinstance(config, Mapping) and "class_path" in config):
        raise StartupError(
            f"{path} does not record its generator's class_path/init_args (it was not saved by "
            f"`python -m inpaint_lightning fit`): build the generator yourself and load its state_dict."
        )
    _check_trusted(config, path)
    try:
        generator = instantiate(dict(config))
    except (TypeError, ValueError) as err:
        raise StartupError(f"{path}: cannot build the generator from its hyperparameters: {err}") from None
    state = ckpt["state_dict"]
    prefix = "generator_ema." if ema and any(k.startswith("generator_ema.") for k in state) else "generator."
    weights = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    try:
        generator.load_state_dict(weights)
    except RuntimeError as err:
        raise StartupError(f"{path}: generator weights do not match its architecture: {err}") from None
    return generator.to(map_location).eval().requires_grad_(False)
