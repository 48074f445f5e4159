"""LaMa's ``ffc_resnet`` generator weights (lama-fourier, big-lama: ``generator.model.*`` of its ``best.ckpt``) as an
:class:`~inpaint_lightning.models.FFCResNet` that computes LaMa's function.

The two networks are the same layers with three differences of convention, each absorbed into the weights:

* **Fourier unit channel layout.** LaMa stacks the spectrum's real and imaginary parts per channel
  (``r0, i0, r1, i1, ...``), ours concatenates them (``r0, r1, ..., i0, i1, ...``): the unit's 1x1 convolution
  (input and output channels) and its BatchNorm are permuted.
* **Input range.** LaMa's generator sees RGB in [0, 1] (hole 0), ours ``2 x - 1``. The stem convolution is linear
  and followed by BatchNorm, so halving its RGB weights and moving the BatchNorm's running mean by the constant
  this leaves (``-sum`` of the halved weights, reflection padding keeps it constant) gives the same output, in
  eval mode exactly and in training mode too (batch statistics remove constants).
* **Output head.** LaMa ends in a sigmoid: the converted model has ``head="sigmoid"``.

The architecture (width, blocks, downsamplings, spectral ratio, channel cap) is read from the weights, so both
published sizes and any other ``ffc_resnet`` configuration convert; variants this project's FFC lacks (LaMa's
local Fourier unit ``enable_lfu``, squeeze-excitation, gated or spatial-transform blocks, ``out_ffc``) are refused
by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from torch import Tensor

from inpaint_lightning.errors import StartupError

PREFIXES = ("generator.model.", "model.")  # a best.ckpt's state_dict; a generator's own state_dict
_FFC = {  # LaMa FFC submodule -> ours
    "convl2l": "l2l",
    "convl2g": "l2g",
    "convg2l": "g2l",
    "convg2g.conv1.0": "g2g.reduce.0",
    "convg2g.conv1.1": "g2g.reduce.1",
    "convg2g.fu.conv_layer": "g2g.fourier.conv",
    "convg2g.fu.bn": "g2g.fourier.bn",
    "convg2g.conv2": "g2g.expand",
}
_NORM = {"bn_l": "bn_local", "bn_g": "bn_global"}
_UNSUPPORTED = {
    ".lfu.": "the local Fourier unit (enable_lfu: true)",
    ".se.": "squeeze-excitation in the Fourier unit",
    ".gate.": "gated FFC",
    ".impl.": "spatial-transform blocks",
}


def generator_keys(state: Mapping[str, Tensor]) -> tuple[str, dict[str, Tensor]] | None:
    """The LaMa generator's weights in ``state`` keyed ``<index>.<rest>`` and the prefix they had, or None."""
    for prefix in PREFIXES:
        found = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if any(re.match(r"\d+\.ffc\.convl2l\.weight$", k) for k in found):
            return prefix, found
    return None


def _layers(weights: Mapping[str, Tensor]) -> dict[int, dict[str, Tensor]]:
    layers: dict[int, dict[str, Tensor]] = {}
    for key, value in weights.items():
        index, _, rest = key.partition(".")
        for marker, what in _UNSUPPORTED.items():
            if marker in f".{rest}":
                raise StartupError(f"LaMa generator with {what} ({key}): not supported by this project's FFC")
        layers.setdefault(int(index), {})[rest] = value
    return layers


def _fourier_permutation(channels: int) -> Tensor:
    """Ours[t * C + c] = LaMa[2 c + t] (t = 0 real, 1 imaginary) for a Fourier unit of ``channels`` = 2 C."""
    half = channels // 2
    return torch.tensor([2 * c + t for t in (0, 1) for c in range(half)])


def _rename_ffc(rest: str) -> str:
    """``ffc.convg2g.fu.bn.weight`` -> ``g2g.fourier.bn.weight``; ``bn_l.bias`` -> ``bn_local.bias``."""
    head, _, param = rest.rpartition(".")
    if head in _NORM:
        return f"{_NORM[head]}.{param}"
    module = head.removeprefix("ffc.")
    if head.startswith("ffc.") and module in _FFC:
        return f"{_FFC[module]}.{param}"
    raise StartupError(f"unexpected key in a LaMa FFC layer: {rest}")


def convert(weights: Mapping[str, Tensor]) -> tuple[dict, dict[str, Tensor]]:
    """``FFCResNet`` init args and state dict for LaMa generator ``weights`` (keys ``<index>.<rest>``).

    Raises:
        StartupError: a layout that is not LaMa's ``ffc_resnet`` generator, or a variant this project lacks.
    """
    layers = _layers(weights)
    order = sorted(layers)
    ffc = [i for i in order if any(k.startswith("ffc.") for k in layers[i])]
    blocks = [i for i in order if any(k.startswith("conv1.ffc.") for k in layers[i])]
    plain = [i for i in order if i not in ffc and i not in blocks]
    n_down, n_blocks = len(ffc) - 1, len(blocks)
    expected = list(range(1, 2 + n_down + n_blocks))
    ups = [blocks[-1] + 2 + 3 * k + j for k in range(n_down) for j in (0, 1)] if blocks else []
    if n_down < 1 or ffc + blocks != expected or plain != [*ups, (ups[-1] + 3 if ups else -1)]:
        raise StartupError(
            "not LaMa's ffc_resnet generator layout (reflection pad, FFC stem, strided FFCs, FFC residual "
            f"blocks, transposed convolutions, output convolution); found layers {order}"
        )
    stem = layers[ffc[0]]["ffc.convl2l.weight"]
    base, in_channels = int(stem.shape[0]), int(stem.shape[1])
    first_block = layers[blocks[0]]
    width = int(
        first_block["conv1.ffc.convl2l.weight"].shape[1] + first_block["conv1.ffc.convg2l.weight"].shape[1]
    )
    in_global = int(first_block["conv1.ffc.convg2l.weight"].shape[1])
    out_conv = layers[plain[-1]]["weight"]
    init_args = {
        "in_channels": in_channels,
        "out_channels": int(out_conv.shape[0]),
        "base_channels": base,
        "n_downsampling": n_down,
        "n_blocks": n_blocks,
        "global_ratio": in_global / width,
        "max_channels": width if width < base * 2**n_down else 1024,
        "prefill": "none",
        "residual": False,
        "head": "sigmoid",
    }
    if int(width * init_args["global_ratio"]) != in_global:
        raise StartupError(
            f"LaMa generator with {in_global} of {width} channels global: no ratio gives that split"
        )

    ours: dict[str, Tensor] = {}
    for index in ffc:  # stem and downsampling: LaMa index i is our i - 1
        for rest, value in layers[index].items():
            ours[f"net.{index - 1}.{_rename_ffc(rest)}"] = value
    for index in blocks:
        for rest, value in layers[index].items():
            conv, _, inner = rest.partition(".")
            ours[f"net.{index - 1}.{conv}.{_rename_ffc(inner)}"] = value
    for index in plain[:-1]:  # transposed convolutions and their BatchNorms: after LaMa's tuple concatenation
        for rest, value in layers[index].items():
            ours[f"net.{index - 2}.{rest}"] = value
    for rest, value in layers[plain[-1]].items():  # output convolution: after LaMa's reflection pad
        ours[f"net.{plain[-1] - 3}.{rest}"] = value

    for key in list(ours):  # Fourier units: real/imaginary channel layout
        if ".g2g.fourier." in key and ours[key].ndim >= 1:
            perm = _fourier_permutation(ours[key].shape[0])
            value = ours[key][perm]
            if value.ndim == 4:
                value = value[:, _fourier_permutation(value.shape[1])]
            ours[key] = value.contiguous()
    # input range: RGB in [-1, 1] instead of [0, 1] (see the module docstring)
    stem_w = ours["net.0.l2l.weight"].clone()
    stem_w[:, :3] *= 0.5
    ours["net.0.l2l.weight"] = stem_w
    ours["net.0.bn_local.running_mean"] = ours["net.0.bn_local.running_mean"] - stem_w[:, :3].sum(
        dim=(1, 2, 3)
    )
    return init_args, ours
