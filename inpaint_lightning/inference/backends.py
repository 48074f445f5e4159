"""What runs a generator for the inference classes: :class:`TorchBackend` (an ``nn.Module`` or TorchScript
module on a device, at a precision) and the PatchMatch pre-fill an exported graph leaves to its caller
(:func:`with_prefill`). ONNX Runtime's backend is :mod:`inpaint_lightning.inference.onnx_runtime`."""

from __future__ import annotations

import contextlib
from typing import Any, Literal

import torch
from torch import Tensor, nn

from inpaint_lightning.models.contract import contract_of

Precision = Literal["fp32", "bf16", "fp16"]
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class PrefilledBackend:
    """Runs the pre-fill an exported graph leaves to its caller (``prefill`` metadata: ``patchmatch``) on the input,
    then the exported backend."""

    def __init__(self, backend: Any, prefill: str) -> None:
        from inpaint_lightning.models.generators.base import patchmatch_fill

        if prefill != "patchmatch":
            raise ValueError(f"unknown external prefill {prefill!r}")
        self.backend, self.fill = backend, patchmatch_fill
        self.size_multiple, self.min_side = backend.size_multiple, backend.min_side
        self.device = backend.device

    def __call__(self, x: Tensor) -> Tensor:
        masked, mask = x[:, :3], x[:, 3:4]
        return self.backend(torch.cat([self.fill(masked, mask), mask], dim=1))


def with_prefill(backend: Any, prefill: str | None) -> Any:
    """``backend`` itself, or wrapped in :class:`PrefilledBackend` when its metadata asks for a pre-fill."""
    return backend if prefill in (None, "", "none") else PrefilledBackend(backend, prefill)


class TorchBackend:
    """Callable running an ``nn.Module`` (or TorchScript module) generator on ``device`` at ``precision``.

    bf16/fp16 use autocast (Fourier units keep fp32 inside); fp16 needs CUDA. On the CPU the input goes in
    channels-last (NHWC) order, which oneDNN's convolutions follow: the default generator at 512 px took 0.75 s
    instead of 0.98 s on a 2-core CPU (median of 5, 2 threads). The weights are left as they are (the generator may
    be one being trained).
    """

    def __init__(
        self, generator: nn.Module, device: str | torch.device = "cpu", precision: Precision = "fp32"
    ) -> None:
        self.device = torch.device(device)
        if precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"precision must be fp32, bf16 or fp16, got {precision!r}")
        if precision == "fp16" and self.device.type != "cuda":
            raise ValueError("precision fp16 needs a CUDA device (use bf16 or fp32 on CPU)")
        self.precision = precision
        self.generator = generator.to(self.device).eval()
        if not isinstance(generator, torch.jit.ScriptModule):
            generator.requires_grad_(False)
        self.size_multiple = contract_of(generator).size_multiple
        self.whole_image = contract_of(generator).whole_image
        self.min_side: int | None = None  # found by probing when not recorded
        self.memory_format = torch.channels_last if self.device.type == "cpu" else torch.contiguous_format

    def __call__(self, x: Tensor) -> Tensor:
        x = x.to(self.device, torch.float32).contiguous(memory_format=self.memory_format)
        autocast = (
            torch.autocast(self.device.type, dtype=_DTYPES[self.precision])
            if self.precision in _DTYPES
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            return self.generator(x).float()


class ClassicalBackend:
    """A classical fill (:func:`~inpaint_lightning.models.classical.baseline`: PatchMatch, Telea, Navier-Stokes,
    biharmonic) where a generator would run: ``B x 4 x H x W`` (masked RGB ++ mask) to ``B x 3 x H x W``, on the
    CPU, any size. It lets every tool that takes a model (``inpaint``, ``Inpainter``, ``serve`` and the page) fill
    with the best method a CPU user has had so far, by name."""

    size_multiple, min_side = 1, 1

    def __init__(self, name: str) -> None:
        from inpaint_lightning.models.classical import baseline

        self.name, self.fill = name, baseline(name)
        self.device = torch.device("cpu")

    def __call__(self, x: Tensor) -> Tensor:
        pixels = x[:, :3].float().clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        holes = (x[:, 3] > 0.5).cpu().numpy()
        filled = [
            torch.from_numpy(self.fill(p, h.astype("float32"))) for p, h in zip(pixels, holes, strict=True)
        ]
        return torch.stack(filled).permute(0, 3, 1, 2).float().div(255)
