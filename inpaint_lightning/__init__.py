"""inpaint_lightning: GAN image inpainting (and restoration) on PyTorch Lightning."""

__version__ = "0.1.0"
