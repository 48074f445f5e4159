"""Perceptual (VGG feature) and style (Gram matrix) losses with torchvision's ImageNet VGG weights.

Only the convolutional ``features`` are built and loaded (memory-mapped, so the 500 MB checkpoint's classifier is
never read). The network is frozen and kept out of the LightningModule's ``state_dict``: checkpoints stay
small and the weights always come from the ImageNet file.
"""

from __future__ import annotations

import os
from typing import Literal

import torch
import torch.nn.functional as F
import torchvision.models.vgg as tv_vgg
from torch import Tensor, nn

from inpaint_lightning.errors import MissingWeightsError
from inpaint_lightning.metrics import torchvision_weights_path

VggName = Literal["vgg16", "vgg19"]

#: ``features`` indices of the ReLU outputs used by default (Johnson et al. for VGG16; Gatys et al. for VGG19).
VGG_LAYERS: dict[str, dict[str, int]] = {
    "vgg16": {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22, "relu5_3": 29},
    "vgg19": {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu5_1": 29},
}
_CFG = {"vgg16": "D", "vgg19": "E"}
_WEIGHTS = {"vgg16": tv_vgg.VGG16_Weights.IMAGENET1K_V1, "vgg19": tv_vgg.VGG19_Weights.IMAGENET1K_V1}


def load_vgg_features(name: VggName = "vgg16") -> nn.Sequential:
    """ImageNet VGG ``features`` (conv stack), frozen, in eval mode.

    Raises:
        MissingWeightsError: the checkpoint is not in ``$TORCH_HOME/hub/checkpoints`` and cannot be downloaded.
    """
    if name not in _CFG:
        raise ValueError(f"unknown VGG {name!r}; choose vgg16 or vgg19")
    url = _WEIGHTS[name].url
    path = torchvision_weights_path(url.rsplit("/", 1)[-1])
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(path), progress=False)
        state = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception as err:  # URLError, OSError, RuntimeError: all mean "no usable weights"
        raise MissingWeightsError(
            f"the perceptual loss needs the ImageNet {name} weights file {path} "
            f"($TORCH_HOME={os.environ.get('TORCH_HOME', '<unset: ~/.cache/torch>')}) and torchvision could not "
            f"download it ({type(err).__name__}: {err}). Put the file there (offline here: "
            f"`python ../shared/weights/install_torch_hub_cache.py`) or set the loss's perceptual and style "
            f"weights to 0."
        ) from None
    features = tv_vgg.make_layers(tv_vgg.cfgs[_CFG[name]])
    features.load_state_dict(
        {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    )
    return features.eval().requires_grad_(False)


def gram(x: Tensor) -> Tensor:
    """Channel Gram matrix normalised by C*H*W (Gatys et al.), in fp32 for range."""
    b, c, h, w = x.shape
    f = x.float().flatten(2)
    return f @ f.transpose(1, 2) / (c * h * w)


class VGGFeatures(nn.Module):
    """Frozen VGG that returns the activations at ``layers`` for images in [0, 1] (ImageNet-normalised inside).

    The network is held outside the module tree (``state_dict``, ``.parameters()`` and the model summary do
    not see it) and follows the input's device on first use.
    """

    def __init__(
        self, name: VggName = "vgg16", layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    ):
        super().__init__()
        unknown = set(layers) - set(VGG_LAYERS[name])
        if unknown:
            raise ValueError(f"unknown {name} layers {sorted(unknown)}; choose from {list(VGG_LAYERS[name])}")
        self.indices = [VGG_LAYERS[name][n] for n in layers]
        self._net = [load_vgg_features(name)[: max(self.indices) + 1]]  # a list: not a submodule
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> list[Tensor]:
        net = self._net[0]
        if next(net.parameters()).device != x.device:
            self._net[0] = net = net.to(x.device)
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(net):
            x = layer(x)
            if i in self.indices:
                out.append(x)
        return out


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
            path = torchvision_weights_path(_WEIGHTS["vgg16"].url.rsplit("/", 1)[-1])
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
