"""What a generator promises its callers, declared once on the generator and read here, nowhere else.

A generator may declare, as attributes:

* ``in_channels``: channels of its input (inpainting: 4 = masked RGB ++ mask; restoration and damage detection: 3);
* ``scale``: its output is ``scale`` x its input's size (super-resolution), 1 otherwise;
* ``size_multiple``: it pads any input to this multiple inside, and callers that pad for it (exports, tiling) use
  this multiple;
* ``whole_image``: True when each output pixel depends on the whole image (a global look, as the enhancement
  generator's colour transforms): callers must not cut the image into tiles, which would each get their own look.

Any ``nn.Module`` can be a generator: what it does not declare takes the default (input channels unknown, scale 1,
multiple 1). :func:`contract_of` checks the declared values, so a generator with a bad one fails where it is built
into a model, an export or an inference class, not at the first odd-sized photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Contract:
    in_channels: int | None = None  # None: not declared
    scale: int = 1
    size_multiple: int = 1
    whole_image: bool = False


def _positive_int(generator: Any, name: str, default: int | None) -> int | None:
    value = getattr(generator, name, None)
    if value is None:
        return default
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise ValueError(f"{type(generator).__name__}.{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def contract_of(generator: Any) -> Contract:
    """The contract ``generator`` declares (see the module docstring); ``ValueError`` for a bad declaration."""
    return Contract(
        in_channels=_positive_int(generator, "in_channels", None),
        scale=_positive_int(generator, "scale", 1),
        size_multiple=_positive_int(generator, "size_multiple", 1),
        whole_image=bool(getattr(generator, "whole_image", False)),
    )
