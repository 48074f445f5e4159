"""Inference on photos of any size: :class:`Inpainter` (fill holes), :class:`Restorer` (restore every pixel, in
tiles), :class:`Deconvolver` (deblur with a known kernel) and :class:`DamageDetector` (find old-photo damage), on
PyTorch, TorchScript or ONNX Runtime; export."""

from inpaint_lightning.inference.backends import TorchBackend
from inpaint_lightning.inference.deconvolver import Deconvolver, parse_kernel
from inpaint_lightning.inference.detector import DamageDetector
from inpaint_lightning.inference.export import export_generator, export_onnx, export_torchscript
from inpaint_lightning.inference.inpainter import Inpainter
from inpaint_lightning.inference.repair import PhotoRepairer
from inpaint_lightning.inference.restorer import Restorer

__all__ = [
    "DamageDetector",
    "Deconvolver",
    "Inpainter",
    "PhotoRepairer",
    "Restorer",
    "TorchBackend",
    "export_generator",
    "export_onnx",
    "export_torchscript",
    "parse_kernel",
]
