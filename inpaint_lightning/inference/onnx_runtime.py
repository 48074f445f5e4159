"""ONNX Runtime backend: runs a generator exported by ``python -m inpaint_lightning export --format onnx``."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import Tensor

from inpaint_lightning.errors import StartupError


class OnnxBackend:
    """Callable running an exported generator: ``B x 4 x H x W`` to the raw ``B x 3 x H x W`` (inpainting) or
    ``B x 3 x H x W`` to ``B x 3 x (scale H) x (scale W)`` (restoration); H, W multiples of ``size_multiple``.
    ``task`` and ``scale`` come from the file's metadata.

    Args:
        path: the ``.onnx`` file.
        threads: intra-op threads (None: ONNX Runtime's default, all cores).
        providers: execution providers (default: CUDA when available, then CPU).
    """

    def __init__(
        self, path: str | os.PathLike, threads: int | None = None, providers: list[str] | None = None
    ) -> None:
        import onnxruntime as ort

        if not os.path.isfile(path):
            raise StartupError(f"ONNX model not found: {path}")
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        available = ort.get_available_providers()
        if providers is None:
            providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as err:  # onnxruntime raises its own exception types for bad files
            raise StartupError(f"{path}: not a loadable ONNX model: {err}") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1 or (len(inputs[0].shape) != 4):
            raise StartupError(
                f"{path}: expected one B x C x H x W input and one output (an exported generator)"
            )
        self.input_name, self.output_name = inputs[0].name, outputs[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        self.task = meta.get("task", "inpaint")  # exports from before restoration existed inpaint
        self.scale = int(meta.get("scale", 1))
        self.size_multiple = int(meta.get("size_multiple", 1))
        self.min_side = int(meta.get("min_side", 0)) or None
        self.whole_image = meta.get("whole_image") == "1"
        self.prefill = meta.get(
            "prefill", "none"
        )  # done by the caller before the graph (Inpainter.from_onnx)
        self.path = str(path)
        self.device = torch.device("cpu")

    def __call__(self, x: Tensor) -> Tensor:
        array = np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())
        out = self.session.run([self.output_name], {self.input_name: array})[0]
        return torch.from_numpy(out).to(x.device)
