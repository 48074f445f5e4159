"""What :class:`~inpaint_lightning.inference.Inpainter`, :class:`~inpaint_lightning.inference.Restorer` and
:class:`~inpaint_lightning.inference.DamageDetector` share:
loading a model from a file (a ``fit`` checkpoint with ``weights_only`` and trusted class paths, an ONNX export
run by ONNX Runtime, or a TorchScript export; a model of the other task is refused in one line) and the backend's
sizing facts (the multiple its inputs are padded to, its smallest side)."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Self

import torch
from torch import nn

from inpaint_lightning.errors import StartupError


def onnx_backend(
    path: str | os.PathLike, threads: int | None = None, providers: list[str] | None = None
) -> tuple[Any, dict[str, str]]:
    """An exported ONNX file as a backend (ONNX Runtime) and its metadata (``task``, ``prefill``, ``scale``)."""
    from inpaint_lightning.inference.onnx_runtime import OnnxBackend

    backend = OnnxBackend(path, threads=threads, providers=providers)
    return backend, {"task": backend.task, "prefill": backend.prefill, "scale": str(backend.scale)}


def torchscript_backend(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[Any, dict[str, str]]:
    """An exported TorchScript file as a backend (sizes from its metadata) and that metadata."""
    from inpaint_lightning.inference.backends import TorchBackend
    from inpaint_lightning.inference.export import load_torchscript

    module, meta = load_torchscript(path)
    backend = TorchBackend(module, device)
    backend.size_multiple = int(meta["size_multiple"] or 1)
    backend.min_side = int(meta["min_side"] or 0) or None
    backend.whole_image = meta.get("whole_image") == "1"
    return backend, meta


def model_format(path: str | os.PathLike) -> str:
    """How a model file is run: ``onnx`` (by its ``.onnx`` suffix), ``torchscript`` (a zip archive with compiled
    code: ``export --format torchscript``, whatever its suffix), ``checkpoint`` (anything torch.load reads: a
    ``fit``/``convert`` checkpoint, or a published LaMa ``.ckpt`` or MI-GAN ``.pt``), or ``classical``: the name
    of a classical fill (``patchmatch``, ``telea``, ``ns``, ``biharmonic``) where no such file exists."""
    import zipfile

    from inpaint_lightning.models.classical import BASELINES

    if str(path) in BASELINES and not os.path.exists(path):
        return "classical"
    if os.path.splitext(str(path))[1].lower() == ".onnx":
        return "onnx"
    try:
        with zipfile.ZipFile(path) as archive:
            if any("/code/" in name for name in archive.namelist()):
                return "torchscript"
    except (OSError, zipfile.BadZipFile):
        pass  # missing, or not a zip: the checkpoint loader says which, in one line
    return "checkpoint"


class FileLoaded:
    """``from_checkpoint`` / ``from_onnx`` / ``from_torchscript`` / ``from_file`` for a class that runs models of
    one ``task`` (``channels`` input channels); the class provides ``from_generator`` and ``from_backend`` (what it
    does with a backend and the file's metadata) and calls :meth:`_use_backend` when built."""

    #: the task of the model run (the class's own until a file says which: a registered task may share the class)
    task: str
    channels: ClassVar[int]

    def _use_backend(self, backend: Any) -> None:
        self.backend = backend
        self.size_multiple = int(getattr(backend, "size_multiple", 1) or 1)
        self.whole_image = bool(getattr(backend, "whole_image", False))  # never tiled (models/contract.py)
        self.device = torch.device(getattr(backend, "device", "cpu"))
        self._min_side: int | None = None

    def min_side(self) -> int:
        """The smallest padded side the model accepts (reflect-padded convolutions need a few pixels at the
        coarsest level): the backend's ``min_side`` when it records one, else found once by trying."""
        if self._min_side is None:
            from inpaint_lightning.inference.sizing import probe_min_side

            recorded = getattr(self.backend, "min_side", None)
            self._min_side = (
                int(recorded)
                if recorded
                else probe_min_side(self.backend, self.size_multiple, self.device, channels=self.channels)
            )
        return self._min_side

    def _of_task(self, task: str) -> Self:
        """Record the loaded model's own task (a task registered from outside may share this class)."""
        self.task = task
        return self

    @classmethod
    def _check_task(cls, path: str | os.PathLike, task: str) -> None:
        from inpaint_lightning.tasks import TASKS, inference_class

        if task not in TASKS:
            raise StartupError(f"{path} is a model of task {task!r}, which is not registered here")
        if inference_class(task) is not cls:  # each task names the class that runs its models
            raise StartupError(f"{path} is {TASKS[task].summary}")

    @classmethod
    def from_generator(
        cls, generator: nn.Module, device: str | torch.device = "cpu", precision: str = "fp32", **options: Any
    ) -> Self:
        """From an ``nn.Module`` generator of this task (inpainting: ``B x 4 x H x W`` -> ``B x 3 x H x W``;
        restoration: ``B x 3 x h x w`` -> ``B x 3 x (scale h) x (scale w)``, its ``scale`` attribute gives the
        scale), run by PyTorch on ``device`` at ``precision`` (fp32, bf16, fp16 on CUDA)."""
        from inpaint_lightning.inference.backends import TorchBackend
        from inpaint_lightning.models.contract import contract_of

        meta = {"scale": str(contract_of(generator).scale)}
        return cls.from_backend(TorchBackend(generator, device, precision), meta, **options)

    @classmethod
    def from_backend(cls, backend: Any, meta: dict[str, str], **options: Any) -> Self:
        raise NotImplementedError

    @classmethod
    def from_classical(cls, name: str, device: str | torch.device = "cpu", **options: Any) -> Self:
        """A classical fill by name (:class:`~inpaint_lightning.inference.backends.ClassicalBackend`): they fill
        holes, so only an inpainting class takes one."""
        if cls.task != "inpaint":
            raise StartupError(f"{name} is a classical hole fill; {cls.__name__} runs {cls.task} models")
        from inpaint_lightning.inference.backends import ClassicalBackend

        return cls.from_backend(ClassicalBackend(name), {"task": "inpaint"}, **options)._of_task("inpaint")

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike, device: str | torch.device = "cpu", precision: str = "fp32",
        ema: bool = True, **options: Any,
    ) -> Self:  # fmt: skip
        """From a ``fit`` or ``convert`` checkpoint (loaded with ``weights_only=True``, trusted class paths only; EMA
        weights when it has them; ``last`` is the newest run's ``last.ckpt`` under ``./logs``), or a published LaMa
        ``best.ckpt`` / MI-GAN ``.pt`` converted as it loads (:mod:`inpaint_lightning.published`).

        Raises:
            StartupError: missing or corrupt file, not a checkpoint of this project, or a model of the other task.
        """
        from inpaint_lightning.checkpoint import load_generator_and_task

        generator, task = load_generator_and_task(path, ema=ema, map_location="cpu")
        cls._check_task(path, task)
        return cls.from_generator(generator, device, precision, **options)._of_task(task)

    @classmethod
    def from_onnx(
        cls,
        path: str | os.PathLike,
        threads: int | None = None,
        providers: list[str] | None = None,
        **options: Any,
    ) -> Self:
        """From an ONNX file written by ``export --format onnx``, run by ONNX Runtime."""
        backend, meta = onnx_backend(path, threads=threads, providers=providers)
        cls._check_task(path, meta["task"])
        return cls.from_backend(backend, meta, **options)._of_task(meta["task"])

    @classmethod
    def from_torchscript(
        cls, path: str | os.PathLike, device: str | torch.device = "cpu", **options: Any
    ) -> Self:
        """From a TorchScript file written by ``export --format torchscript``."""
        backend, meta = torchscript_backend(path, device)
        cls._check_task(path, meta["task"])
        return cls.from_backend(backend, meta, **options)._of_task(meta["task"])

    @classmethod
    def from_file(cls, path: str | os.PathLike, device: str | torch.device = "cpu", **options: Any) -> Self:
        """By :func:`model_format`: ``.onnx`` (ONNX Runtime), a TorchScript export, otherwise a checkpoint (of
        ``fit`` or ``convert``, or a published LaMa / MI-GAN file). ``threads`` applies to ONNX Runtime;
        ``precision`` and ``ema`` to checkpoints."""
        kind = model_format(path)
        threads = options.pop("threads", None)
        if kind == "classical":
            for option in ("precision", "ema"):
                options.pop(option, None)
            return cls.from_classical(str(path), **options)
        if kind != "checkpoint":
            options.pop("precision", None)
            options.pop("ema", None)
            if kind == "onnx":
                return cls.from_onnx(path, threads=threads, **options)
            return cls.from_torchscript(path, device=device, **options)
        return cls.from_checkpoint(path, device=device, **options)
