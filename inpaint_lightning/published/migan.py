"""MI-GAN's released inference weights (``migan_256_places2.pt``, ``migan_512_places2.pt``, ``migan_256_ffhq.pt``:
plain state dicts of its ``migan_inference.Generator``) as a :class:`~inpaint_lightning.models.MIGAN`.

Our network keeps MI-GAN's module names, so conversion is a check more than a mapping: the fixed [1, 3, 3, 1] FIR
filters become buffers (``.filter.weight`` -> ``.filter``), and the upsamplings' ``filter_const`` (a
zero-insertion pattern tiled to one resolution, which our transposed convolution does not need) must be that
pattern and is dropped. Resolution and channel widths are read from the weights.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from torch import Tensor

from inpaint_lightning.errors import StartupError


def is_migan(state: Mapping[str, Tensor]) -> bool:
    return any(k.startswith("encoder.b") for k in state) and any(k.startswith("synthesis.b4.") for k in state)


def _zero_insertion(size: tuple[int, ...]) -> Tensor:
    pattern = torch.zeros(size[-2:])
    pattern[::2, ::2] = 1.0
    return pattern.expand(size)


def convert(state: Mapping[str, Tensor]) -> tuple[dict, dict[str, Tensor]]:
    """``MIGAN`` init args and state dict for MI-GAN inference weights.

    Raises:
        StartupError: not MI-GAN's inference generator (e.g. its training checkpoint, with mapping network and
            modulated convolutions), or a corrupted upsampling pattern.
    """
    sides = [int(m[1]) for k in state if (m := re.match(r"encoder\.b(\d+)\.", k))]
    if not sides or not is_migan(state):
        raise StartupError("not MI-GAN's inference generator (no encoder.b<N>/synthesis.b4 weights)")
    resolution = max(sides)
    top = f"encoder.b{resolution}.fromrgb.weight"
    if top not in state or "synthesis.b4.torgb.weight" not in state:
        raise StartupError(
            "not MI-GAN's inference generator (export it with its scripts/export_inference_model.py first)"
        )
    widths = [
        int(v.shape[0]) for k, v in state.items() if re.match(r"encoder\.b\d+\.conv1\.conv2\.weight$", k)
    ]
    top_width, channel_max = int(state[top].shape[0]), max(widths)
    init_args = {
        "resolution": resolution,
        "channel_base": top_width * resolution,
        "channel_max": channel_max,
        "in_channels": int(state[top].shape[1]),
        "out_channels": int(state["synthesis.b4.torgb.weight"].shape[0]),
    }
    ours: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.endswith(".filter_const"):
            if not torch.equal(value, _zero_insertion(tuple(value.shape))):
                raise StartupError(f"{key} is not an upsampling's zero-insertion pattern: a corrupted file")
            continue
        ours[key.removesuffix(".weight") if key.endswith(".filter.weight") else key] = value
    return init_args, ours
