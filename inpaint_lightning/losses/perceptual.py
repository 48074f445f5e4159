"""Perceptual (VGG feature), style (Gram matrix) and LPIPS-VGG losses, through the frozen ImageNet VGG of
:mod:`inpaint_lightning.models.vgg` (kept out of the LightningModule's ``state_dict``)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from inpaint_lightning.errors import MissingWeightsError
from inpaint_lightning.models.vgg import vgg_weights_url
from inpaint_lightning.pretrained import torchvision_weights_path


def gram(x: Tensor) -> Tensor:
    """Channel Gram matrix normalised by C*H*W (Gatys et al.), in fp32 for range."""
    b, c, h, w = x.shape
    f = x.float().flatten(2)
    return f @ f.transpose(1, 2) / (c * h * w)


def perceptual_and_style(fake: list[Tensor], real: list[Tensor]) -> tuple[Tensor, Tensor]:
    """``(mean_l L1(phi_l(fake), phi_l(real)), mean_l L1(gram(phi_l(fake)), gram(phi_l(real))))``."""
    perceptual = sum((f - r.detach()).abs().mean() for f, r in zip(fake, real, strict=True)) / len(fake)
    style = sum((gram(f) - gram(r.detach())).abs().mean() for f, r in zip(fake, real, strict=True)) / len(
        fake
    )
    return perceptual, style


class LpipsVggLoss(nn.Module):
    """LPIPS with the VGG16 backbone (Zhang et al. 2018) as a loss, averaged over an image pyramid.

    Unit-normalised VGG activations compared through LPIPS' learned channel weights track what people (and the
    AlexNet LPIPS used for evaluation, a different network) call similar far better than L1 or plain VGG
    distances, and give the generator useful texture gradients from the first step. Each pyramid level halves the
    image, doubling the receptive field in image terms (LaMa's point for large holes: a loss that sees the whole
    hole). The network (torchvision's ImageNet VGG16 features + torchmetrics' LPIPS heads) is frozen and kept out
    of ``state_dict``.

    Args:
        scales: pyramid levels (1 = the image only).

    Raises:
        MissingWeightsError: the VGG16 weights are not cached and cannot be downloaded.
    """

    def __init__(self, scales: int = 1) -> None:
        super().__init__()
        if scales < 1:
            raise ValueError(f"scales must be >= 1, got {scales}")
        from torchmetrics.image import LearnedPerceptualImagePatchSimilarity

        try:
            net = LearnedPerceptualImagePatchSimilarity(net_type="vgg", normalize=True).net
        except Exception as err:  # URLError, OSError, RuntimeError: all mean "no usable weights"
            path = torchvision_weights_path(vgg_weights_url("vgg16").rsplit("/", 1)[-1])
            raise MissingWeightsError(
                f"the LPIPS-VGG loss needs the ImageNet vgg16 weights file {path} and torchvision could not "
                f"download it ({type(err).__name__}: {err}). Put the file there (offline here: "
                f"`python ../shared/weights/install_torch_hub_cache.py`) or set the loss's lpips_vgg weight to 0."
            ) from None
        self._net = [net.eval().requires_grad_(False)]  # a list: not a submodule
        self.scales = scales

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        """Mean LPIPS-VGG distance of ``fake`` to ``real`` (both ``B x 3 x H x W`` in [0, 1]) over the pyramid."""
        net = self._net[0]
        if next(net.parameters()).device != fake.device:
            self._net[0] = net = net.to(fake.device)
        total = fake.new_zeros(())
        for level in range(self.scales):
            if level:
                fake, real = F.avg_pool2d(fake, 2), F.avg_pool2d(real, 2)
            total = total + net(fake, real.detach(), normalize=True).mean()
        return total / self.scales
