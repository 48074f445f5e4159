"""Image embeddings for the no-reference realism measures (KID, FID, P-IDS/U-IDS) that work offline.

- ``alexnet``: ImageNet AlexNet's ``features`` (torchvision's weights, the ones LPIPS uses; no training loss of
  this project uses them, but note that checkpoints are *selected* on AlexNet LPIPS), images resized to 224 px,
  mean-pooled to 256 numbers.
- ``random``: a fixed network with seeded random weights (Naeem et al. 2020's control: a measure that moves only
  with trained features is about what those features saw, not about images in general), mean-pooled to 256.
- ``inception``: torch-fidelity's Inception-v3 (the papers' FID network), when its weights are present.

Each maps ``B x 3 x H x W`` in [0, 1] (any size) to ``B x D`` float features, with ``num_features`` = D.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Embedding = Literal["inception", "alexnet", "random"]
_MEAN, _STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class _Pooled(nn.Module):
    """A convolutional trunk on 224 px ImageNet-normalised input, mean-pooled over space."""

    def __init__(self, trunk: nn.Module, num_features: int) -> None:
        super().__init__()
        self.trunk, self.num_features = trunk.eval().requires_grad_(False), num_features
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype == torch.uint8:  # torchmetrics hands over uint8 unless normalize=True
            x = x.float() / 255
        x = F.interpolate(x.float(), size=(224, 224), mode="bilinear", antialias=True, align_corners=False)
        return self.trunk((x - self.mean) / self.std).mean(dim=(2, 3))


def alexnet_features() -> nn.Module:
    """ImageNet AlexNet's convolutional features (torchvision's weights; MissingWeightsError when absent)."""
    import torchvision

    from inpaint_lightning.errors import MissingWeightsError
    from inpaint_lightning.pretrained import LPIPS_WEIGHTS, torchvision_weights_path

    try:
        net = torchvision.models.alexnet(weights=torchvision.models.AlexNet_Weights.IMAGENET1K_V1)
    except Exception as err:  # no cached file and no download
        raise MissingWeightsError(
            f"the alexnet embedding needs {torchvision_weights_path(LPIPS_WEIGHTS['alex'])} "
            f"({type(err).__name__}); offline: `python ../shared/weights/install_torch_hub_cache.py`"
        ) from None
    return _Pooled(net.features, 256)


def random_features(seed: int = 0) -> nn.Module:
    """Five seeded random convolutions (Kaiming init) with ReLU and pooling: the same weights on every machine."""
    generator = torch.Generator().manual_seed(seed)
    widths, layers, cin = (64, 128, 256, 256, 256), [], 3
    for i, cout in enumerate(widths):
        conv = nn.Conv2d(cin, cout, 3, padding=1)
        with torch.no_grad():
            conv.weight.normal_(0, (2.0 / (cin * 9)) ** 0.5, generator=generator)
            conv.bias.zero_()
        layers += [conv, nn.ReLU()] + ([nn.MaxPool2d(2)] if i < len(widths) - 1 else [])
        cin = cout
    return _Pooled(nn.Sequential(*layers), widths[-1])


def embedding(name: Embedding, inception_weights: str | None = None) -> nn.Module:
    """The feature network ``name`` (see the module docstring)."""
    if name == "alexnet":
        return alexnet_features()
    if name == "random":
        return random_features()
    if name == "inception":
        from inpaint_lightning.evaluation.distribution import inception_features

        return inception_features(inception_weights)
    raise ValueError(f"unknown embedding {name!r}; choose inception, alexnet or random")
