"""Inference on photos of any size: :class:`Inpainter` (PyTorch, TorchScript or ONNX Runtime), export."""

from inpaint_lightning.inference.export import export_generator, export_onnx, export_torchscript
from inpaint_lightning.inference.inpainter import Inpainter, TorchBackend

__all__ = ["Inpainter", "TorchBackend", "export_generator", "export_onnx", "export_torchscript"]
