"""Published inpainting checkpoints (LaMa, MI-GAN) as native checkpoints of this project.

:func:`read_published` reads a published file without building any object it pickles
(:mod:`~inpaint_lightning.published.unpickle`), recognises its model by its weights, converts them (parity with
the reference implementations is tested on fixtures made by ``scripts/published_fixtures.py``) and returns the
dictionary a ``fit`` checkpoint holds for inference: ``state_dict`` with ``generator.*``, and
``hyper_parameters`` with the generator's ``class_path``/``init_args`` and ``task: inpaint``. Every command and
``Inpainter.from_file`` therefore take the original file directly
(:func:`inpaint_lightning.checkpoint.load_generator_and_task` falls back to this), and ``python -m
inpaint_lightning convert`` saves the result (with where it came from and the source's SHA-256) as a ``.ckpt`` that
loads with ``weights_only=True``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from torch import Tensor

from inpaint_lightning.errors import StartupError
from inpaint_lightning.published import lama, migan
from inpaint_lightning.published.unpickle import load_inert

Source = Literal["lama", "migan"]
SOURCES: tuple[str, ...] = ("lama", "migan")
CLASS_PATHS = {"lama": "inpaint_lightning.models.FFCResNet", "migan": "inpaint_lightning.models.MIGAN"}
NAMES = {"lama": "LaMa (ffc_resnet: lama-fourier, big-lama)", "migan": "MI-GAN (inference generator)"}


class NotPublished(Exception):
    """The file is not a checkpoint of a published model this project converts."""


def _tensors(obj: Any) -> dict[str, Tensor] | None:
    """The state dict inside a loaded file: its ``state_dict`` entry (a Lightning checkpoint) or the file itself."""
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if isinstance(obj, Mapping) and obj and all(isinstance(v, Tensor) for v in obj.values()):
        return {str(k): v for k, v in obj.items()}
    return None


def recognise(state: Mapping[str, Tensor]) -> Source | None:
    """Which published model ``state`` holds: ``lama``, ``migan`` or None."""
    if lama.generator_keys(state) is not None:
        return "lama"
    if migan.is_migan(state):
        return "migan"
    return None


def _ignored(keys: list[str]) -> dict[str, int]:
    """Key counts by their first name part (``discriminator.model0.0.weight`` -> ``discriminator``)."""
    return dict(sorted(Counter(k.split(".")[0] for k in keys).items()))


def read_published(path: str | os.PathLike, source: Source | None = None) -> dict[str, Any]:
    """A published checkpoint at ``path`` converted to this project's checkpoint layout (see the module docstring).

    Args:
        source: ``lama`` or ``migan`` to insist on one; None recognises it from the weights.

    Raises:
        NotPublished: not a readable PyTorch file, or (``source`` None) no weights of a model this project converts;
            its message is one line saying which.
        StartupError: ``source`` given and the file holds other weights, or a variant that does not convert.
    """
    path = Path(path)
    if not path.is_file():
        raise StartupError(f"checkpoint not found: {path}")
    try:
        state = _tensors(load_inert(path))
    except Exception as err:  # torch.load's many errors for a file that is not a (whole) PyTorch file
        raise NotPublished(
            f"{path}: not a readable PyTorch file (corrupt, truncated or another format; {type(err).__name__})"
        ) from None
    found = recognise(state) if state is not None else None
    if found is None or (source is not None and found != source):
        if source is None:
            raise NotPublished(
                f"{path}: not a LaMa or MI-GAN checkpoint (no ffc_resnet generator.model.* weights, no MI-GAN "
                f"encoder/synthesis weights)"
            )
        other = f"it holds {NAMES[found]} weights" if found else "no weights of it in the file"
        raise StartupError(f"{path} is not a {NAMES[source]} checkpoint: {other}")
    if found == "lama":
        prefix, weights = lama.generator_keys(state)
        init_args, converted = lama.convert(weights)
        ignored = [k for k in state if not k.startswith(prefix)]
    else:
        init_args, converted = migan.convert(state)
        ignored = []
    return {
        "state_dict": {f"generator.{k}": v for k, v in converted.items()},
        "hyper_parameters": {
            "generator": {"class_path": CLASS_PATHS[found], "init_args": init_args},
            "task": "inpaint",
        },
        "converted_from": {
            "source": found,
            "file": path.name,
            "consumed_keys": len(state) - len(ignored),
            "ignored_keys": _ignored(ignored),
        },
    }
