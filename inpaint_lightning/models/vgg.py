"""The frozen ImageNet VGG feature network that perceptual losses and the Projected GAN discriminator look
through (torchvision's weights).

Only the convolutional ``features`` are built and loaded (memory-mapped, so the 500 MB checkpoint's classifier is
never read). The network is frozen and kept out of its owner's ``state_dict``: checkpoints stay small and the
weights always come from the ImageNet file.
"""

from __future__ import annotations

import os
from typing import Literal

import torch
import torchvision.models.vgg as tv_vgg
from torch import Tensor, nn

from inpaint_lightning.errors import MissingWeightsError
from inpaint_lightning.pretrained import torchvision_weights_path

VggName = Literal["vgg16", "vgg19"]

#: ``features`` indices of the ReLU outputs used by default (Johnson et al. for VGG16; Gatys et al. for VGG19).
VGG_LAYERS: dict[str, dict[str, int]] = {
    "vgg16": {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22, "relu5_3": 29},
    "vgg19": {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu5_1": 29},
}
_CFG = {"vgg16": "D", "vgg19": "E"}
_WEIGHTS = {"vgg16": tv_vgg.VGG16_Weights.IMAGENET1K_V1, "vgg19": tv_vgg.VGG19_Weights.IMAGENET1K_V1}


def vgg_weights_url(name: VggName) -> str:
    """Where torchvision downloads the ImageNet weights of ``name`` from (its file name is the cache's)."""
    return _WEIGHTS[name].url


def load_vgg_features(name: VggName = "vgg16") -> nn.Sequential:
    """ImageNet VGG ``features`` (conv stack), frozen, in eval mode.

    Raises:
        MissingWeightsError: the checkpoint is not in ``$TORCH_HOME/hub/checkpoints`` and cannot be downloaded.
    """
    if name not in _CFG:
        raise ValueError(f"unknown VGG {name!r}; choose vgg16 or vgg19")
    url = vgg_weights_url(name)
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
