"""Read a PyTorch file that pickles foreign Python objects without building any of them.

LaMa's published ``best.ckpt`` files pickle an OmegaConf config (and, from older Lightning, other objects) beside
the weights, so ``torch.load(weights_only=True)`` refuses them, and ``weights_only=False`` would import and call
whatever the file names. Here every global the pickle names is replaced by an inert :class:`Opaque` stand-in,
except the few torch functions that rebuild tensors from the file's own storages and ``collections.OrderedDict``:
the result holds real tensors and plain containers, and opaque records where the foreign objects were. No module
the file names is imported, and no function it names is called.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import torch

#: (module, name) of the only globals that are built: tensors from the file's storages, and ordered dicts.
ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): __import__("collections").OrderedDict,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch", "Size"): torch.Size,
}


class Opaque:
    """Stands in for an object of a class the file named; keeps what the pickle gave it, runs nothing."""

    qualname = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> Opaque:
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.state, self.items = args, None, []

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items.append((key, value))

    def append(self, value: Any) -> None:
        self.items.append(value)

    def extend(self, values: Any) -> None:
        self.items.extend(values)

    def __repr__(self) -> str:
        return f"<{self.qualname} (not built)>"


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        return type(name, (Opaque,), {"qualname": f"{module}.{name}"})


class _PickleModule:
    """What ``torch.load(pickle_module=...)`` needs: an ``Unpickler`` class and ``load``."""

    Unpickler = _Unpickler

    @staticmethod
    def load(file: Any, **kwargs: Any) -> Any:
        return _Unpickler(file, **kwargs).load()


def load_inert(path: str | os.PathLike) -> Any:
    """The file's contents with tensors on the CPU and every other object an :class:`Opaque` stand-in.

    Tensors are memory-mapped (copy-on-write): recognising a file and converting its generator reads only the
    bytes they touch, not a big-lama checkpoint's discriminator, evaluators and optimizer states. Files in torch's
    legacy (pre-zip) format are read whole.

    Raises what ``torch.load`` raises for a file that is not a PyTorch file or is truncated.
    """
    try:
        return torch.load(
            path, map_location="cpu", pickle_module=_PickleModule, weights_only=False, mmap=True
        )
    except RuntimeError as err:
        if "mmap" not in str(err):
            raise
        return torch.load(path, map_location="cpu", pickle_module=_PickleModule, weights_only=False)
