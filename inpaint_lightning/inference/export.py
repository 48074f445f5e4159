"""Export a generator to ONNX or TorchScript with dynamic batch, height and width.

The exported graph is the generator's contract. Inpainting: input ``input`` = ``B x 4 x H x W`` (masked RGB in
[0, 1] ++ mask, 1 = hole), output ``output`` = ``B x 3 x H x W`` (the raw prediction: composite it with
``mask * clamp(output, 0, 1) + (1 - mask) * image``). Restoration: input ``B x 3 x H x W`` (the degraded photo),
output ``B x 3 x (scale H) x (scale W)`` (clamp it to [0, 1]). **H and W must be multiples of the model's
``size_multiple``**. The metadata (ONNX ``metadata_props``, TorchScript extra files) records ``task``,
``scale``, ``size_multiple`` and ``min_side``; :class:`~inpaint_lightning.inference.Inpainter` and
:class:`~inpaint_lightning.inference.Restorer` read them and pad for you.

Two things in the generators are not traceable at every size as written, and are handled here:

* ``torch.fft`` has no ONNX export in the TorchScript-based exporter: Fourier units switch to the matrix-product
  DFT of :mod:`inpaint_lightning.models.ffc` while exporting, with the DFT matrices built in the graph from the
  input's shape, so FFC models keep dynamic H and W.
* The pyramid pre-fill (:func:`~inpaint_lightning.models.generators.pyramid_fill`) runs a fixed number of levels
  whose extra ones are switched off in the graph, so it traces exactly at every size; it runs in the graph here,
  before the generator, which is told not to repeat it.
"""

from __future__ import annotations

import copy
import os
import warnings
from typing import Literal

import torch
from torch import Tensor, nn

from inpaint_lightning.inference.sizing import probe_min_side
from inpaint_lightning.models.contract import contract_of
from inpaint_lightning.models.ffc import dft_by_matmul
from inpaint_lightning.models.generators.base import pyramid_fill
from inpaint_lightning.tasks import task_named

INPUT_NAME, OUTPUT_NAME = "input", "output"
ExportFormat = Literal["onnx", "torchscript"]


class ExportableGenerator(nn.Module):
    """A copy of ``generator`` whose pyramid pre-fill traces exactly at every size (see the module docstring).

    A PatchMatch pre-fill (CPU exemplar search, no graph ops) stays outside the graph: the exported model expects
    its input already pre-filled, its metadata says ``prefill: patchmatch``, and the loaders of this project
    (:meth:`~inpaint_lightning.inference.Inpainter.from_onnx`, ``from_torchscript``) run it before the graph.
    """

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = copy.deepcopy(generator).eval()
        kind = getattr(self.generator, "prefill", "none")
        self.prefill = kind == "pyramid"
        self.external_prefill = "patchmatch" if kind == "patchmatch" else "none"
        if kind != "none":
            self.generator.prefill = (
                "none"  # done below or by the caller; the residual base is the pre-filled input
            )
        self.size_multiple = contract_of(generator).size_multiple

    def forward(self, x: Tensor) -> Tensor:
        if self.prefill:
            masked, mask = x[:, :3], x[:, 3:4]
            x = torch.cat([pyramid_fill(masked, mask), mask], dim=1)
        return self.generator(x)


METADATA_KEYS = ("task", "scale", "size_multiple", "min_side", "prefill", "contract", "whole_image")
"""What an export records beside the graph (older exports lack ``task``/``scale``: inpainting, scale 1)."""


def _metadata(model: ExportableGenerator, task: str) -> dict[str, str]:
    channels, scale = task_named(task).input_channels, contract_of(model.generator).scale
    return {
        "task": task,
        "scale": str(scale),
        "size_multiple": str(model.size_multiple),
        "min_side": str(probe_min_side(model, model.size_multiple, channels=channels)),
        "prefill": model.external_prefill,
        "whole_image": "1" if contract_of(model.generator).whole_image else "0",
        "contract": task_named(task).export_contract(scale),  # an x4 model's output is 4H x 4W
    }


def _example(generator: nn.Module, size: int, task: str) -> Tensor:
    multiple = contract_of(generator).size_multiple
    side = max(multiple, size // multiple * multiple)
    gen = torch.Generator().manual_seed(0)
    return task_named(task).example_input(1, side, side + multiple, gen)  # non-square: H and W stay distinct


def load_torchscript(path: str | os.PathLike) -> tuple[torch.jit.ScriptModule, dict[str, str]]:
    """A TorchScript export and its metadata (strings; missing keys are empty).

    Raises:
        StartupError: missing file, or not a loadable TorchScript model.
    """
    from inpaint_lightning.errors import StartupError

    if not os.path.isfile(path):
        raise StartupError(f"TorchScript model not found: {path}")
    extra = dict.fromkeys(METADATA_KEYS, "")
    try:
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except Exception as err:  # TorchScript raises RuntimeError and friends for foreign files
        raise StartupError(f"{path}: not a loadable TorchScript model: {err}") from None
    meta = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in extra.items()}
    meta["task"] = meta["task"] or "inpaint"
    return module, meta


def export_onnx(
    generator: nn.Module,
    path: str | os.PathLike,
    opset: int = 17,
    example_size: int = 64,
    task: str = "inpaint",
) -> None:
    """Write ``generator`` (eval mode, on CPU, fp32) as ONNX with dynamic batch, height and width.

    Metadata ``size_multiple`` records the multiple H and W must have.
    """
    import onnx

    model = ExportableGenerator(generator.float().cpu()).eval()
    example = _example(generator, example_size, task)
    dynamic = {0: "batch", 2: "height", 3: "width"}
    with torch.no_grad(), dft_by_matmul(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python values: handled as described above
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic},
            opset_version=opset,
            dynamo=False,
        )
    proto = onnx.load(str(path))
    for key, value in _metadata(model, task).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))


def export_torchscript(
    generator: nn.Module, path: str | os.PathLike, example_size: int = 64, task: str = "inpaint"
) -> None:
    """Write ``generator`` as a traced TorchScript module (``torch.jit.load``; dynamic batch, H and W).

    ``torch.fft`` traces natively here; the pyramid pre-fill is unrolled as for ONNX.
    """
    model = ExportableGenerator(generator.float().cpu()).eval()
    example = _example(generator, example_size, task)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (example,), check_trace=False)
    traced.save(str(path), _extra_files=_metadata(model, task))


def export_generator(
    generator: nn.Module,
    path: str | os.PathLike,
    fmt: ExportFormat,
    example_size: int = 64,
    task: str = "inpaint",
) -> None:
    """Export in ``fmt`` (``onnx`` or ``torchscript``); ``task`` (``inpaint``, ``restore``, ``deconvolve``,
    ``detect``) goes in the metadata."""
    if fmt == "onnx":
        export_onnx(generator, path, example_size=example_size, task=task)
    elif fmt == "torchscript":
        export_torchscript(generator, path, example_size=example_size, task=task)
    else:
        raise ValueError(f"format must be 'onnx' or 'torchscript', got {fmt!r}")
