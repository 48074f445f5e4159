"""Checkpoint files: safe loading, atomic saving, and the inference generator rebuilt from a checkpoint alone
(no config file, no discriminator, no loss networks; architecture from its hyperparameters, weights from EMA).

Loading is safe for files from elsewhere: ``torch.load(..., weights_only=True)`` unpickles only tensors and plain
containers (no code runs), and the ``class_path`` entries that say which classes to build must name classes of
this project, ``torch.nn`` or ``torch.optim`` (of the kind the entry needs), so a crafted checkpoint cannot make
us build an arbitrary class either. The same policy guards every path: :func:`load_generator`, the trainer's
``--ckpt_path`` (:class:`SafeCheckpointIO`, and :func:`check_hyperparameters` before LightningCLI reads the
checkpoint's hyperparameters) and ``GANModule.load_from_checkpoint``. Your own package's classes are built once you
trust it (:func:`trust_modules`, or ``INPAINT_LIGHTNING_TRUSTED_MODULES=mylab`` for every command).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import re
import tempfile
import zipfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from torch import Tensor, nn

from inpaint_lightning.errors import StartupError

#: Modules whose classes a checkpoint may ask us to build.
TRUSTED_MODULE_PREFIXES: tuple[str, ...] = ("inpaint_lightning.", "torch.nn.", "torch.optim.")
#: Environment variable naming more trusted packages (comma-separated), e.g. ``mylab.models,mylab.losses``.
TRUSTED_ENV = "INPAINT_LIGHTNING_TRUSTED_MODULES"
_trusted_by_code: list[str] = []


def trust_modules(*names: str) -> None:
    """Let checkpoints build classes of these packages too (your own generator's, e.g. ``trust_modules("mylab")``)
    in this process; the ``INPAINT_LIGHTNING_TRUSTED_MODULES`` environment variable does the same for every command.
    Only the named packages and their submodules are added; every other class path is still refused."""
    for name in names:
        name = name.strip().rstrip(".")
        if not name or not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"not a module name: {name!r}")
        _trusted_by_code.append(f"{name}.")


def trusted_prefixes() -> tuple[str, ...]:
    """This project's, ``torch.nn``'s and ``torch.optim``'s classes, and the packages trusted by
    :func:`trust_modules` or ``INPAINT_LIGHTNING_TRUSTED_MODULES``."""
    from_env = [f"{n.strip().rstrip('.')}." for n in os.environ.get(TRUSTED_ENV, "").split(",") if n.strip()]
    return (*TRUSTED_MODULE_PREFIXES, *_trusted_by_code, *from_env)


#: What a class named in a checkpoint's hyperparameters may be: a network (generator, discriminator, loss,
#: augmentation), an optimizer or a learning-rate scheduler.
TRUSTED_BASES: tuple[type, ...] = (nn.Module, torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler)
#: The only ``_instantiator`` LightningCLI records, which ``load_from_checkpoint`` would import and call.
TRUSTED_INSTANTIATORS = ("lightning.pytorch.cli.instantiate_module",)


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


def _check_trusted(config: Any, path: Any, bases: tuple[type, ...] = (nn.Module,)) -> None:
    """Every ``class_path`` in ``config`` must be a subclass of one of ``bases`` from a trusted module.

    The module is checked by name *before* it is imported, so an untrusted module never even loads.
    """
    if isinstance(config, Mapping):
        if "class_path" in config:
            class_path = str(config["class_path"])
            module_name, _, name = class_path.rpartition(".")
            trusted = trusted_prefixes()
            if not f"{module_name}.".startswith(trusted):
                raise StartupError(
                    f"{path}: refusing to build {class_path!r} (only classes from "
                    f"{', '.join(p.rstrip('.') for p in trusted)} are built from checkpoints; trust your own "
                    f"package with {TRUSTED_ENV}=name)"
                )
            try:
                obj = getattr(importlib.import_module(module_name), name)
            except (ImportError, AttributeError) as err:
                raise StartupError(f"{path}: class {class_path!r} not found ({err})") from None
            if not (inspect.isclass(obj) and issubclass(obj, bases)):
                kinds = " or ".join(b.__name__ for b in bases)
                raise StartupError(f"{path}: refusing to build {class_path!r}: not a {kinds} class")
        for value in config.values():
            _check_trusted(value, path, bases)
    elif isinstance(config, list):
        for value in config:
            _check_trusted(value, path, bases)


def check_hyperparameters(ckpt: Mapping[str, Any], path: Any) -> None:
    """Refuse a checkpoint whose hyperparameters would make Lightning build an untrusted class.

    LightningCLI (``--ckpt_path``) and ``load_from_checkpoint`` instantiate every ``class_path`` they find there.
    """
    for key in ("hyper_parameters", "datamodule_hyper_parameters"):
        hparams = ckpt.get(key)
        if not isinstance(hparams, Mapping):
            continue
        instantiator = hparams.get("_instantiator")
        if instantiator is not None and instantiator not in TRUSTED_INSTANTIATORS:
            raise StartupError(f"{path}: refusing the checkpoint's instantiator {instantiator!r}")
        if "_class_path" in hparams:
            _check_trusted({"class_path": hparams["_class_path"]}, path)
        _check_trusted(dict(hparams), path, TRUSTED_BASES)


def _first_sentence(err: BaseException) -> str:
    """torch's zip errors run to five sentences of advice; the first says what is wrong."""
    text = (str(err).strip().splitlines() or [""])[0]
    return text.split(". ")[0].rstrip(".")


#: Where ``fit`` writes runs unless ``--trainer.default_root_dir`` says otherwise.
DEFAULT_ROOT = "logs"


def latest_last(root: str | os.PathLike = DEFAULT_ROOT) -> Path | None:
    """The newest ``last.ckpt`` of the runs under ``root``: ``<root>/<name>/<version>/checkpoints/last.ckpt``
    (or ``<root>/checkpoints/last.ckpt`` for a run without a logger)."""
    found = [p for p in Path(root).glob("**/checkpoints/last.ckpt") if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def resolve(path: str | os.PathLike) -> Path:
    """``path`` itself, or for ``last`` the newest run's ``last.ckpt`` under ``./logs`` (each run has its own
    folder, so this is the short way to say "what I just trained")."""
    if str(path) != "last":
        return Path(path)
    found = latest_last()
    if found is None:
        raise StartupError(
            f"no run with a last.ckpt under ./{DEFAULT_ROOT}: train one, or pass the .ckpt file"
        )
    return found


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a training checkpoint with ``weights_only=True`` (``path`` may be ``last``: :func:`resolve`).

    Raises:
        StartupError: missing, unreadable/corrupt, holding objects beyond tensors and plain containers, or not a
            Lightning checkpoint (no ``state_dict``).
    """
    path = resolve(path)
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
            f"{type(err).__name__}: {_first_sentence(err)})"
        ) from None
    if not isinstance(ckpt, Mapping) or not isinstance(ckpt.get("state_dict"), Mapping):
        raise StartupError(
            f"{path}: not a Lightning training checkpoint (no state_dict); expected a .ckpt written by "
            f"`python -m inpaint_lightning fit`"
        )
    return dict(ckpt)


def newest_intact(folder: str | os.PathLike, exclude: str | os.PathLike | None = None) -> Path | None:
    """The most recently written ``*.ckpt`` in ``folder`` that loads, other than ``exclude``."""
    candidates = sorted(Path(folder).glob("*.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True)
    for candidate in candidates:
        if exclude is not None and candidate.resolve() == Path(exclude).resolve():
            continue
        try:
            check_hyperparameters(load_checkpoint(candidate), candidate)
        except StartupError:
            continue
        return candidate
    return None


def load_trusted(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """:func:`load_checkpoint` plus :func:`check_hyperparameters`; a damaged file's error names the newest intact
    checkpoint beside it, so a resume can go on from there."""
    try:
        ckpt = load_checkpoint(path, map_location)
    except StartupError as err:
        if not os.path.isfile(path):
            raise
        intact = newest_intact(Path(path).parent, exclude=path)
        hint = f"; newest intact checkpoint there: {intact}" if intact else "; no intact checkpoint beside it"
        raise StartupError(f"{err}{hint}") from None
    check_hyperparameters(ckpt, path)
    return ckpt


class SafeCheckpointIO(TorchCheckpointIO):
    """The trainer's checkpoint reader/writer: atomic saves, trusted loads.

    Saving writes a temporary file *in the checkpoint's folder*, flushes it to disk and renames it over the
    target (an atomic replace on one filesystem): a kill or a full disk mid-save leaves the previous checkpoint
    intact, never a 0-byte or truncated one. (Lightning's own save stages the file in the system temp folder, and
    across filesystems its final "move" is a plain copy.) Loading uses :func:`load_trusted`: ``weights_only``,
    the trusted-class policy, and one clear line for a damaged file. Remote (``scheme://``) paths go to Lightning.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        if storage_options is not None:
            raise TypeError("storage_options are not supported for local checkpoint files")
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        with suppress(OSError):  # make the rename itself durable (POSIX; not possible on Windows)
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: bool | None = None) -> dict:
        if "://" in str(path):
            return super().load_checkpoint(path, map_location, weights_only=True)
        return load_trusted(path, "cpu" if map_location is None else map_location)


def load_model_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """A checkpoint to run a model from: one written by ``fit`` or ``convert`` (:func:`load_checkpoint`), or a
    published LaMa / MI-GAN file converted in memory (:func:`inpaint_lightning.published.read_published`: no
    object it pickles is built). Anything else fails with :func:`load_checkpoint`'s one line."""
    try:
        return load_checkpoint(path, map_location)
    except StartupError as err:
        resolved = resolve(path)
        if not os.path.isfile(resolved):
            raise
        from inpaint_lightning.published import NotPublished, read_published

        try:
            return read_published(resolved)
        except NotPublished:
            raise err from None


def load_generator(
    path: str | os.PathLike, ema: bool = True, map_location: str | torch.device = "cpu"
) -> nn.Module:
    """The generator of a checkpoint written by ``fit``, in eval mode (see :func:`load_generator_and_task`)."""
    return load_generator_and_task(path, ema, map_location)[0]


def load_generator_and_task(
    path: str | os.PathLike, ema: bool = True, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, str]:
    """The generator of a checkpoint written by ``fit``, in eval mode, and its task (``inpaint``, ``restore``,
    ``deconvolve``, ``detect``).

    Args:
        path: a ``.ckpt`` file.
        ema: use the EMA weights when the checkpoint has them (what validation reported); False takes the raw
            generator's.
        map_location: device to load onto.

    Raises:
        StartupError: the file is missing, corrupt, or is not an inpaint_lightning training checkpoint.
    """
    ckpt = load_model_checkpoint(path, map_location)
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
    task = str(hparams.get("task", "inpaint"))  # checkpoints from before restoration existed inpaint
    return generator.to(map_location).eval().requires_grad_(False), task


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks (what checkpoints record of their sources and teachers)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Source:
    """What a fine-tune starts from: a checkpoint's generator (its config, its EMA weights when it has them, else
    its raw ones), its task and its discriminator's weights when it saved any (``fit`` checkpoints do; a
    published generator-only file does not)."""

    path: str
    generator: Mapping[str, Any]
    task: str
    generator_state: dict[str, Tensor]
    discriminator_state: dict[str, Tensor] | None


def read_source(path: str | os.PathLike) -> Source:
    """The :class:`Source` in ``path``: a ``fit`` or ``convert`` checkpoint, or a published LaMa / MI-GAN file
    (converted in memory). StartupError (one line) when it has no generator this project can build."""
    ckpt = load_model_checkpoint(path, "cpu")
    hparams = ckpt.get("hyper_parameters") or {}
    config = hparams.get("generator") if isinstance(hparams, Mapping) else None
    if not (isinstance(config, Mapping) and "class_path" in config):
        raise StartupError(
            f"{path} does not record its generator's class_path/init_args: it cannot be a source"
        )
    _check_trusted(config, path)
    state = ckpt["state_dict"]
    prefix = "generator_ema." if any(k.startswith("generator_ema.") for k in state) else "generator."
    weights = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    critic = {k[len("discriminator.") :]: v for k, v in state.items() if k.startswith("discriminator.")}
    return Source(str(path), dict(config), str(hparams.get("task", "inpaint")), weights, critic or None)
